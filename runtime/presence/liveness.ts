import { readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Whether a heartbeat entry still stands for a running replica.
 *
 * A replica that stops cleanly deletes its entry; one killed (kill -9, OOM, a lost machine)
 * leaves it until the bucket's TTL. Two signals tell sooner:
 * - silence: an entry not rewritten for MISSED_BEATS beat periods (the period is in the entry)
 *   plus a second of slack is a replica that stopped beating: 7 s at the default 2 s, where the
 *   fixed 15 s before left a killed and restarted replica counted twice for that long (issue 22);
 * - a process known dead: when the entry was written on this host, in this pid namespace
 *   (containers on one host may share a host name, never a pid namespace), and its pid is gone,
 *   the replica is gone now. `status` checks this for entries of its own host, and a starting
 *   replica removes such entries of its own actor (Heartbeat.start), so a restart on the same
 *   host replaces the killed replica at once for every reader.
 */
export const MISSED_BEATS = 3;
/** A replica's beat period unless it says otherwise (its entry carries `everyMs`). */
export const HEARTBEAT_EVERY_MS = 2_000;
const SLACK_MS = 1_000;

/** How old an entry written every `everyMs` may be and still be live. */
export function staleAfterMs(everyMs: number = HEARTBEAT_EVERY_MS): number {
  return MISSED_BEATS * everyMs + SLACK_MS;
}

/** Where a process runs, as far as pids can be compared: the host name and the pid namespace (Linux). */
export type ProcessPlace = Readonly<{ host: string; pidns?: string }>;

let here: ProcessPlace | undefined;

/** This process's place (read once). */
export function thisPlace(): ProcessPlace {
  if (here) return here;
  let pidns: string | undefined;
  try {
    pidns = readlinkSync("/proc/self/ns/pid"); // e.g. "pid:[4026531836]"
  } catch {
    pidns = undefined; // not Linux: pids are never compared
  }
  here = { host: hostname(), ...(pidns ? { pidns } : {}) };
  return here;
}

/** Whether process `pid` exists here (EPERM: it does, owned by another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True when an entry's value names a process of this place that no longer exists; false when it
 * is alive or cannot be judged from here (another host or pid namespace, fields missing).
 */
export function processGone(value: Readonly<Record<string, unknown>>, place: ProcessPlace = thisPlace(), alive = pidAlive): boolean {
  if (!place.pidns || value.host !== place.host || value.pidns !== place.pidns) return false;
  return typeof value.pid === "number" && value.pid > 0 && !alive(value.pid);
}

/** An entry written at `at` (server time) with `value` is live at `now`, unless `gone` (see processGone). */
export function isLive(entry: Readonly<{ value: Readonly<Record<string, unknown>>; at: Date; gone?: boolean }>, now: number): boolean {
  if (entry.gone) return false;
  const every = typeof entry.value.everyMs === "number" && entry.value.everyMs > 0 ? entry.value.everyMs : HEARTBEAT_EVERY_MS;
  return now - entry.at.getTime() <= staleAfterMs(every);
}
