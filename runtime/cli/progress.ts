/**
 * A single self-overwriting progress line on stderr for long CLI operations (replay, index
 * rebuild, DLQ replay). It draws only when the stream is a terminal: pipes, CI logs and --json
 * output stay byte-for-byte clean, and stdout (the command's answer) is never touched.
 */
export type Progress = Readonly<{
  /** `done` items so far, of `total` when known; redraws at most every `everyMs`. */
  update(done: number, total?: number): void;
  /** Clears the line; call it in a `finally` so an error message never lands after a half-drawn line. */
  done(): void;
}>;

export type ProgressStream = { isTTY?: boolean; columns?: number; write(text: string): unknown };

const CLEAR_LINE = "\r\x1b[2K";
const SILENT: Progress = { update() {}, done() {} };

export function createProgress(label: string, opts: { stream?: ProgressStream; everyMs?: number } = {}): Progress {
  const out: ProgressStream = opts.stream ?? process.stderr;
  if (!out.isTTY) return SILENT;
  const everyMs = opts.everyMs ?? 100;
  const started = Date.now();
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      // the last update is always drawn so the line ends on the real count
      if (now - lastDraw < everyMs && done !== total) return;
      lastDraw = now;
      const secs = (now - started) / 1000;
      const count = total ? `${done}/${total} (${Math.min(100, Math.floor((done / total) * 100))}%)` : String(done);
      const rate = secs >= 1 ? `, ${Math.round(done / secs)}/s` : "";
      // a pty without a size (script, some CI runners) reports 0 columns: treat it as unknown
      const width = Math.max(20, (out.columns || 80) - 1);
      out.write(CLEAR_LINE + `${label}: ${count}${rate}`.slice(0, width));
      drawn = true;
    },
    done() {
      if (drawn) out.write(CLEAR_LINE);
      drawn = false;
    },
  };
}
