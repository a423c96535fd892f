import { InvalidTimeError } from "../errors.ts";

/**
 * The one parser of durations and points in time, for config files and command-line flags alike.
 * A duration is a whole number of milliseconds, or a whole number with a unit: 500ms, 30s, 5m,
 * 24h, 7d, 1w (schemas/config.schema.json `$defs/duration` accepts the same strings). Config
 * durations are converted to milliseconds once, while the config is validated (validate.ts);
 * after that every duration in a JetbusConfig is a number of milliseconds.
 */
export const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

const DURATION = /^(\d+)(ms|s|m|h|d|w)$/;
const WHOLE = /^\d+$/;
/** A date, or a date and time with optional seconds, fraction and zone (RFC 3339 and the forms people type). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export const DURATION_FORMS = "milliseconds, or a number with a unit: 500ms, 30s, 5m, 24h, 7d, 1w";
export const TIME_FORMS =
  'an ISO timestamp (2026-01-31T12:00:00Z, or a date 2026-01-31) or a duration ago (30s, 15m, 2h, 7d, 1w, optionally followed by "ago")';

/** Milliseconds in a duration string with a unit, or undefined when it is not one. */
function unitMillis(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * DURATION_UNITS_MS[m[2] as keyof typeof DURATION_UNITS_MS] : undefined;
}

/**
 * Milliseconds in a duration: a number (already milliseconds), digits (milliseconds), or a
 * number with a unit. Anything else is an InvalidTimeError naming `what` and the value.
 */
export function parseDuration(value: number | string, what: string): number {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0) return value;
    throw new InvalidTimeError(what, String(value), DURATION_FORMS);
  }
  const t = value.trim();
  const ms = WHOLE.test(t) ? Number(t) : unitMillis(t);
  // too long for any timer is the caller's limit to judge (config: limits.ts); too long to be a number is no duration
  if (ms === undefined || !Number.isFinite(ms)) throw new InvalidTimeError(what, value, DURATION_FORMS);
  return ms;
}

/** Milliseconds in a duration, or undefined when `value` is not one (the config validator's conversion). */
export function durationMillis(value: number | string): number | undefined {
  try {
    return parseDuration(value, "duration");
  } catch {
    return undefined;
  }
}

/**
 * A duration as a config file writes it, for people: the largest unit that divides it (500ms, 30s,
 * 5m, 24h, 7d). Days start at 2d: the docs and the defaults say `24h`, not `1d`.
 * parseDuration(formatDuration(ms)) === ms for every whole ms >= 0.
 */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const size = DURATION_UNITS_MS[unit];
    if (ms >= (unit === "d" ? 2 * size : size) && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Nanoseconds, as JetStream's API wants them, from milliseconds. */
export function msToNanos(ms: number): number {
  return ms * 1_000_000;
}

/** A point in time: an ISO timestamp, or a duration meaning that long before `now` ("2h", "2h ago"). */
export function parseTimePoint(text: string, what: string, now = new Date()): Date {
  const t = text.trim();
  const ago = unitMillis(t.replace(/\s+ago$/i, ""));
  if (ago !== undefined) return new Date(now.getTime() - ago);
  if (TIMESTAMP.test(t)) {
    const d = new Date(t);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new InvalidTimeError(what, text, TIME_FORMS);
}
