/**
 * The state part of a fault run's verdict: a stateful counter actor (state `{ n }` per key, one
 * increment per event, every acked event routed to it) must end with each key's `n` equal to the
 * number of distinct acked events of that key, exactly. One less is a lost state change, one more
 * a change committed twice: both break the exactly-once promise of stateful actors. Pure: the
 * states are read by the caller (`jetbus check --counter-state ACTOR`).
 */
import type { AckedRecord } from "./checker.ts";

/** One key whose count is off; `actual` null = the stored state is not a counter (`{ "n": number }`). */
export type StateMismatch = Readonly<{ key: string; expected: number; actual: number | null }>;

export type StateVerdict = {
  actor: string;
  /** Keys compared: every key with an acked event or a stored state. */
  keys: number;
  /** Sum of the expected counts over all keys (the acked events the counter had to see). */
  events: number;
  mismatches: StateMismatch[];
  valid: boolean;
};

/** A counter's value, or null when the state has another shape. */
function counterValue(state: unknown): number | null {
  if (state && typeof state === "object" && !Array.isArray(state)) {
    const n = (state as Record<string, unknown>).n;
    if (typeof n === "number" && Number.isInteger(n)) return n;
  }
  return null;
}

/**
 * Compares each key's stored counter with its acked events. A key never written counts 0 (the
 * counter's initial state); a stored key with no acked event expects 0. Acked records without a
 * key cannot be placed and are left out (the chaos publisher gives every event one).
 */
export function counterStateVerdict(actor: string, acked: readonly AckedRecord[], states: ReadonlyMap<string, unknown>): StateVerdict {
  const idsByKey = new Map<string, Set<string>>();
  for (const a of acked) {
    if (a.key === undefined) continue;
    const ids = idsByKey.get(a.key) ?? new Set<string>();
    ids.add(a.id); // an id acked twice (a retried publish logged twice) is one event
    idsByKey.set(a.key, ids);
  }
  const keys = [...new Set([...idsByKey.keys(), ...states.keys()])].sort();
  const mismatches: StateMismatch[] = [];
  let events = 0;
  for (const key of keys) {
    const expected = idsByKey.get(key)?.size ?? 0;
    events += expected;
    const actual = states.has(key) ? counterValue(states.get(key)) : 0;
    if (actual !== expected) mismatches.push({ key, expected, actual });
  }
  return { actor, keys: keys.length, events, mismatches, valid: mismatches.length === 0 };
}
