import { toMillis } from "../config/duration.ts";
import { UsageError } from "../errors.ts";

/** Where a replay starts or stops: a store sequence, or a point in time. */
export type ReplayPoint = Readonly<{ seq: number }> | Readonly<{ time: Date }>;

const RFC3339ISH = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses `--from` / `--to`: a store sequence (`1200`), a timestamp (`2026-01-31T12:00:00Z`,
 * or a date), or a duration meaning "that long ago" (`15m`, `2h`, `7d`).
 */
export function parseReplayPoint(text: string, flag: string, now = new Date()): ReplayPoint {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const seq = Number(t);
    if (!Number.isSafeInteger(seq) || seq < 1) throw new UsageError(`${flag} ${JSON.stringify(text)}: a store sequence starts at 1`);
    return { seq };
  }
  if (/^\d+(ms|s|m|h|d)$/.test(t)) return { time: new Date(now.getTime() - toMillis(t)) };
  if (RFC3339ISH.test(t) && !Number.isNaN(Date.parse(t))) return { time: new Date(t) };
  throw new UsageError(`${flag} ${JSON.stringify(text)} is not a store sequence (e.g. 1200), a time (e.g. 2026-01-31T12:00:00Z) or a duration ago (e.g. 15m, 2h, 7d)`);
}

export function describePoint(p: ReplayPoint): string {
  return "seq" in p ? `seq ${p.seq}` : p.time.toISOString();
}

/** Checks a range is not backwards when both ends are of the same kind. */
export function checkRange(from: ReplayPoint, to: ReplayPoint | undefined): void {
  if (!to) return;
  const backwards = "seq" in from && "seq" in to ? to.seq < from.seq : "time" in from && "time" in to ? to.time < from.time : false;
  if (backwards) throw new UsageError(`--to ${describePoint(to)} is before --from ${describePoint(from)}`);
}
