import type { StreamConfig } from "@nats-io/jetstream";
import { SETTING_OF, type StreamWanted } from "./stream.ts";

/** What applying one changed setting does to the stored messages. */
export const ChangeEffect = {
  /** Applied in place; nothing stored is deleted (a longer max_age, more replicas, a new subject). */
  Safe: "safe",
  /** Applied in place or by re-creating the stream, and it deletes stored data: needs --allow-data-loss. */
  DataLoss: "data-loss",
  /** The server cannot make it and jetbus will not (a store with work-queue retention, dropping subjects that hold data). */
  Impossible: "impossible",
} as const;
export type ChangeEffect = (typeof ChangeEffect)[keyof typeof ChangeEffect];

export type StreamChange = Readonly<{
  key: keyof StreamConfig;
  /** The config key a person edits (`store.max_age`), or what jetbus sets by itself. */
  setting: string;
  from: unknown;
  to: unknown;
  effect: ChangeEffect;
  /** For DataLoss and Impossible: what the change would delete or why it cannot be made. */
  why?: string;
}>;

/** A limit where -1 or 0 means "none": is `to` stricter than `from`? */
function tighter(from: unknown, to: unknown): boolean {
  const f = typeof from === "number" && from > 0 ? from : Infinity;
  const t = typeof to === "number" && to > 0 ? to : Infinity;
  return t < f;
}

/** Does subject filter `w` cover subject filter `s`? (NATS wildcards `*` and `>`.) */
function covers(w: string, s: string): boolean {
  if (w === s) return true;
  const wt = w.split("."),
    st = s.split(".");
  for (let i = 0; i < wt.length; i++) {
    if (wt[i] === ">") return st.length > i;
    if (i >= st.length) return false;
    if (wt[i] !== "*" && wt[i] !== st[i]) return false;
  }
  return wt.length === st.length;
}

function judge(key: keyof StreamConfig, from: unknown, to: unknown, stream: string): Pick<StreamChange, "effect" | "why"> {
  switch (key) {
    case "max_age":
      return tighter(from, to)
        ? { effect: ChangeEffect.DataLoss, why: `deletes every message older than ${showValue(key, to)}` }
        : { effect: ChangeEffect.Safe };
    case "max_bytes":
      return tighter(from, to)
        ? { effect: ChangeEffect.DataLoss, why: `deletes the oldest messages beyond ${String(to)} bytes` }
        : { effect: ChangeEffect.Safe };
    case "max_msgs":
      return tighter(from, to)
        ? { effect: ChangeEffect.DataLoss, why: `deletes the oldest messages beyond ${String(to)}` }
        : { effect: ChangeEffect.Safe };
    case "max_msgs_per_subject":
      return tighter(from, to)
        ? { effect: ChangeEffect.DataLoss, why: `deletes all but the newest ${String(to)} message(s) of each subject` }
        : { effect: ChangeEffect.Safe };
    case "num_replicas":
      return Number(to) < Number(from)
        ? {
            effect: ChangeEffect.DataLoss,
            why: `drops ${Number(from) - Number(to)} of the ${String(from)} copies of every message: a node loss can then lose data`,
          }
        : { effect: ChangeEffect.Safe };
    case "storage":
      return {
        effect: ChangeEffect.DataLoss,
        why: `the server cannot convert ${String(from)} storage in place: the stream is deleted and re-created, empty`,
      };
    case "retention":
      return {
        effect: ChangeEffect.Impossible,
        why: `stream ${stream} has ${String(from)} retention; jetbus needs ${String(to)} retention here (use another store.stream name)`,
      };
    case "subjects": {
      const orphaned = ((from as string[] | undefined) ?? []).filter(
        (s) => !((to as string[] | undefined) ?? []).some((w) => covers(w, s)),
      );
      return orphaned.length > 0
        ? {
            effect: ChangeEffect.Impossible,
            why: `stream ${stream} also captures ${orphaned.join(", ")}; dropping ${orphaned.length === 1 ? "that subject" : "those subjects"} would orphan stored messages (use another store.stream name, or edit the stream by hand)`,
          }
        : { effect: ChangeEffect.Safe };
    }
    default:
      // max_msg_size, duplicate_window, discard, allow_direct: they rule new messages, stored ones stay
      return { effect: ChangeEffect.Safe };
  }
}

/** Every setting jetbus decides that differs between the deployed stream and what the config asks for. Pure. */
export function streamChanges(current: Partial<StreamConfig>, desired: Partial<StreamWanted> & { name: string }): StreamChange[] {
  const changes: StreamChange[] = [];
  for (const key of Object.keys(desired) as Array<keyof StreamWanted>) {
    if (key === "name") continue;
    const from = current[key],
      to = desired[key];
    if (JSON.stringify(from ?? null) === JSON.stringify(to ?? null)) continue;
    changes.push({ key, setting: SETTING_OF[key] ?? `${key} (set by jetbus)`, from, to, ...judge(key, from, to, desired.name) });
  }
  return changes;
}

/** Nanosecond durations as seconds, so a person can compare them with the config. */
export function showValue(key: string, v: unknown): string {
  if ((key === "max_age" || key === "duplicate_window") && typeof v === "number") return v === 0 ? "0 (forever)" : seconds(v / 1e9);
  return JSON.stringify(v);
}

/** The largest whole unit, as the config writes it: 2592000 s is `30d`, 90 s is `90s`. */
function seconds(s: number): string {
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const)
    if (s >= size && s % size === 0) return `${s / size}${unit}`;
  return `${s}s`;
}

/** One line per change: `store.max_age: 0 (forever) -> 2s`. */
export function describeChange(c: StreamChange): string {
  return `${c.setting}: ${showValue(c.key, c.from)} -> ${showValue(c.key, c.to)}`;
}
