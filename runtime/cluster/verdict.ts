/**
 * The one-line verdict of a fault run (`jetbus check --json`, `npm run chaos`): the checker's
 * counts summed over the store and the actors, the faults injected, the longest stretch without an
 * ack, and every duplicate placed in one of the idempotency windows of docs/concepts/actors.md (Actors ->
 * Idempotency) or counted as unexplained. Pure: the inputs are read by checker-input.ts.
 */
import { STORE_TARGET, type AckedRecord, type CheckResult, type SeenRecord } from "./checker.ts";
import type { StateVerdict } from "./state-verdict.ts";

/** One injected fault: what, on what, when (ms); `pid` = the process it killed or paused. */
export type FaultRecord = Readonly<{ kind: string; target?: string; start: number; end?: number; pid?: number }>;

/**
 * Fault kinds that kill a process: a handling cut off after its effect and before its marker runs
 * again. Such a kill explains only the duplicates of the process it killed (by pid), never a
 * cluster-wide window: `kill-commander` (the chaos run's aggregate commands) explains none.
 */
export const PROCESS_KILLS: readonly string[] = ["kill-actor", "kill-router", "kill-commander"];

/**
 * How long after a fault ends its effects can still make a duplicate: a delivery whose ack or
 * deadline renewal was lost comes back after `ack_wait` (the chaos config sets 10 s) plus the
 * consumer's failover. 30 s covers both with room.
 */
export const FAULT_AFTERMATH_MS = 30_000;

export type DuplicateWindows = {
  /** The first handling's process was killed after it (window 1: effect done, marker not stored). */
  process_killed: number;
  /** A cluster fault was active or just over between the two handlings (window 2: a lost ack or renewal). */
  cluster_fault: number;
  /** Neither: not covered by a documented window. */
  unexplained: number;
};

/** Per fault kind: how many, the longest ack gap that overlapped one of them (or its aftermath), surplus handlings placed in them. */
export type FaultStats = { count: number; max_unavailable_ms: number; duplicates: number };

export type Verdict = {
  events: number;
  acked: number;
  lost: number;
  duplicated: number;
  reordered: number;
  faults: Record<string, number>;
  max_unavailable_ms: number;
  seed: number | null;
  valid: boolean;
  duplicate_windows: DuplicateWindows;
  by_fault: Record<string, FaultStats>;
  unexpected: number;
  /** A stateful counter's keys against the acked events (given with `--counter-state`): a mismatch fails. */
  state?: StateVerdict;
};

export type VerdictInput = Readonly<{
  result: CheckResult;
  acked: readonly AckedRecord[];
  seen: readonly SeenRecord[];
  faults: readonly FaultRecord[];
  /** Distinct event ids the publishers tried (acked or not); defaults to the acked ones. */
  sent?: number;
  seed?: number;
  /** Actors with no order promise: their reordering is not counted. */
  unordered?: readonly string[];
  state?: StateVerdict;
}>;

/** The longest gap between consecutive acks (ms): how long publishing stalled at worst. */
export function maxUnavailableMs(acked: readonly AckedRecord[]): number {
  const times = acked
    .map((a) => a.at)
    .filter((t): t is number => typeof t === "number")
    .sort((a, b) => a - b);
  let max = 0;
  for (let i = 1; i < times.length; i++) max = Math.max(max, times[i]! - times[i - 1]!);
  return Math.round(max);
}

/** Each ack gap (ms) with its bounds: [from, to]. */
function ackGaps(acked: readonly AckedRecord[]): [number, number][] {
  const times = acked
    .map((a) => a.at)
    .filter((t): t is number => typeof t === "number")
    .sort((a, b) => a - b);
  return times.slice(1).map((t, i) => [times[i]!, t]);
}

/**
 * A gap in acks belongs to a fault when it began while the fault was on or within this long after
 * it was healed (a leader election after a heal takes a few seconds).
 */
export const GAP_AFTER_HEAL_MS = 5_000;

/** Per kind: the longest ack gap that began during a fault of that kind (or just after its heal), and the surplus handlings a fault of that kind explains. */
export function faultStats(
  acked: readonly AckedRecord[],
  seen: readonly SeenRecord[],
  faults: readonly FaultRecord[],
): Record<string, FaultStats> {
  const out: Record<string, FaultStats> = {};
  const gaps = ackGaps(acked);
  for (const f of faults) {
    const s = (out[f.kind] ??= { count: 0, max_unavailable_ms: 0, duplicates: 0 });
    s.count++;
    const until = (f.end ?? Infinity) + GAP_AFTER_HEAL_MS;
    for (const [from, to] of gaps)
      if (from >= f.start - 1000 && from <= until) s.max_unavailable_ms = Math.max(s.max_unavailable_ms, Math.round(to - from));
  }
  for (const [first, again] of surplus(seen)) {
    const f = explainingFault(first, again, faults);
    if (f) out[f.kind]!.duplicates++;
  }
  return out;
}

/** Every (earlier, later) pair of handlings of one event by one actor, in handling order. */
function surplus(seen: readonly SeenRecord[]): [SeenRecord, SeenRecord][] {
  const byEvent = new Map<string, SeenRecord[]>();
  for (const s of seen) {
    const k = `${s.actor}\u0000${s.id}`;
    const list = byEvent.get(k);
    if (list) list.push(s);
    else byEvent.set(k, [s]);
  }
  const pairs: [SeenRecord, SeenRecord][] = [];
  for (const list of byEvent.values()) for (let i = 1; i < list.length; i++) pairs.push([list[i - 1]!, list[i]!]);
  return pairs;
}

/** The fault that puts a second handling in a documented window: a kill of the first handler's process, else a cluster fault around them. */
function explainingFault(first: SeenRecord, again: SeenRecord, faults: readonly FaultRecord[]): FaultRecord | undefined {
  const from = first.at ?? -Infinity,
    to = again.at ?? Infinity;
  return (
    faults.find((f) => PROCESS_KILLS.includes(f.kind) && f.pid === first.pid && f.start >= from && f.start <= to) ??
    faults.find((f) => !PROCESS_KILLS.includes(f.kind) && f.start <= to && (f.end ?? Infinity) + FAULT_AFTERMATH_MS >= from)
  );
}

/** Places each surplus handling (the second, third... of one event by one actor) in a window. */
export function duplicateWindows(seen: readonly SeenRecord[], faults: readonly FaultRecord[]): DuplicateWindows {
  const out: DuplicateWindows = { process_killed: 0, cluster_fault: 0, unexplained: 0 };
  for (const [first, again] of surplus(seen)) {
    const f = explainingFault(first, again, faults);
    if (!f) out.unexplained++;
    else if (PROCESS_KILLS.includes(f.kind)) out.process_killed++;
    else out.cluster_fault++;
  }
  return out;
}

export function verdict(input: VerdictInput): Verdict {
  const { result } = input;
  const faults: Record<string, number> = {};
  for (const f of input.faults) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
  const acked = new Set(input.acked.map((a) => a.id)).size;
  const actors = result.targets.filter((t) => t.name !== STORE_TARGET);
  const ordered = result.targets.filter((t) => !input.unordered?.includes(t.name));
  const sum = (ts: typeof result.targets, f: (t: (typeof result.targets)[number]) => number) => ts.reduce((n, t) => n + f(t), 0);
  const lost = sum(result.targets, (t) => t.lost);
  const reordered = sum(ordered, (t) => t.outOfOrder);
  const unexpected = sum(result.targets, (t) => t.unexpected);
  const store = result.targets.find((t) => t.name === STORE_TARGET);
  return {
    events: input.sent ?? acked,
    acked,
    lost,
    // surplus handlings by actors, plus events the store holds twice
    duplicated: sum(actors, (t) => t.extra) + (store?.extra ?? 0),
    reordered,
    faults,
    max_unavailable_ms: maxUnavailableMs(input.acked),
    seed: input.seed ?? null,
    valid: lost === 0 && reordered === 0 && unexpected === 0 && (store?.duplicated ?? 0) === 0 && (input.state?.valid ?? true),
    duplicate_windows: duplicateWindows(input.seen, input.faults),
    by_fault: faultStats(input.acked, input.seen, input.faults),
    unexpected,
    ...(input.state ? { state: input.state } : {}),
  };
}
