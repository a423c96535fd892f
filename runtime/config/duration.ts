import type { Duration } from "./types.ts";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds in a config duration. The schema has already checked the form. */
export function toMillis(d: Duration): number {
  if (typeof d === "number") return d;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(d)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Nanoseconds, as JetStream's API wants them. */
export function toNanos(d: Duration): number {
  return toMillis(d) * 1_000_000;
}
