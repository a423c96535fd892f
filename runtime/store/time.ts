import { UsageError } from "../errors.ts";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * A point in time from the command line: an ISO 8601 / RFC 3339 timestamp, or a duration
 * meaning that long ago ("10m", "1h", "2d", optionally followed by "ago").
 */
export function parseTimeArg(text: string, flag: string, now = new Date()): Date {
  const t = text.trim();
  const rel = /^(\d+)\s*(ms|s|m|h|d|w)(\s+ago)?$/i.exec(t);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2]!.toLowerCase() as keyof typeof UNIT_MS]);
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const d = new Date(t);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new UsageError(`${flag} ${JSON.stringify(text)} is not a time: use an ISO timestamp (2024-05-01T12:00:00Z) or a duration ago (30s, 10m, 2h, 7d)`);
}
