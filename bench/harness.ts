/**
 * A benchmark scenario measures jetbus and the raw @nats-io client doing the same work in the
 * same run, so the ratio means something on whatever machine runs it.
 */
export type Comparison = Readonly<{
  metric: string;
  unit: string;
  jetbus: number;
  raw: number;
  /** true for throughput (bigger wins), false for latency and memory. */
  higherIsBetter: boolean;
  /** The issue's target, as text, e.g. ">= 2.5x". */
  target?: string;
  /** What `raw` measured when it is not the raw client (e.g. a peer library); "raw" by default. */
  reference?: string;
}>;

export type Scenario = Readonly<{ name: string; description: string; run(args: string[]): Promise<Comparison[]> }>;

/** jetbus / raw for throughput, raw / jetbus for costs: above 1 means jetbus did better. */
export function ratio(c: Comparison): number {
  return c.higherIsBetter ? c.jetbus / c.raw : c.raw / c.jetbus;
}

export function formatReport(name: string, rows: readonly Comparison[]): string {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
  const lines = rows.map((r) => {
    const x = r.jetbus / r.raw;
    const ref = r.reference ?? "raw";
    return `${r.metric.padEnd(44)} jetbus ${fmt(r.jetbus).padStart(10)} ${r.unit.padEnd(8)} ${ref} ${fmt(r.raw).padStart(10)} ${r.unit.padEnd(8)} jetbus/${ref} ${x.toFixed(2)}x${r.target ? `  (target ${r.target})` : ""}`;
  });
  return [`# ${name}`, ...lines].join("\n");
}

/** Runs `fn` repeatedly for about `ms` milliseconds and returns operations per second. */
export function opsPerSecond(fn: () => void, ms = 1000): number {
  for (let i = 0; i < 1000; i++) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
