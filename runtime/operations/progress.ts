/** A single self-overwriting progress line for long operations. Silent unless the stream is a TTY, so pipes and --json stay clean. */
export type Progress = Readonly<{ update(done: number, total?: number): void; done(summary?: string): void }>;

type Writable = { isTTY?: boolean; write(s: string): unknown; columns?: number };

export function createProgress(label: string, opts: { stream?: Writable; everyMs?: number; total?: number } = {}): Progress {
  const out = opts.stream ?? (process.stderr as Writable);
  if (!out.isTTY) return { update() {}, done() {} };
  const every = opts.everyMs ?? 100;
  let total = opts.total;
  let last = 0;
  let shown = false;
  const started = Date.now();
  const draw = (n: number) => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? ` ${Math.round(n / secs)}/s` : "";
    const pct = total ? ` ${Math.min(100, Math.floor((n / total) * 100))}% (${n}/${total})` : ` ${n}`;
    const line = `${label}${pct}${rate}`.slice(0, Math.max(20, (out.columns ?? 80) - 1));
    out.write(`\r\x1b[2K${line}`);
    shown = true;
  };
  return {
    update(n, t) {
      if (t !== undefined) total = t;
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      draw(n);
    },
    done(summary) {
      if (shown) out.write("\r\x1b[2K");
      if (summary) out.write(summary + "\n");
    },
  };
}
