import { parseTimePoint, TIME_FORMS } from "../config/duration.ts";
import { InvalidTimeError, UsageError } from "../errors.ts";

/** Where a replay starts or stops: a store sequence, or a point in time. */
export type ReplayPoint = Readonly<{ seq: number }> | Readonly<{ time: Date }>;

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
  try {
    return { time: parseTimePoint(t, flag, now) };
  } catch {
    throw new InvalidTimeError(flag, text, `a store sequence (1200), or ${TIME_FORMS}`);
  }
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
