import { AggregateInvalidError } from "../errors.ts";
import { assertAggregateName } from "../events/subjects.ts";

/** What `decide` returns and `evolve` folds: an event of the aggregate, by type, with its data. */
export type AggregateEvent = Readonly<{ type: string; data: unknown }>;

/**
 * An event as the store recorded it, as `evolve` gets it: the decided event (data brought up to
 * its type's latest version when it was stored older, see events/versions) plus its envelope.
 */
export type Recorded<E extends AggregateEvent = AggregateEvent> = E &
  Readonly<{
    id: string;
    /** RFC 3339, when it was decided. */
    time: string;
    source: string;
    /** The entity's id (the CloudEvents `subject`). */
    subject: string;
    correlationid: string;
    causationid?: string;
    dataversion: number;
    /** Its sequence in the event store. */
    seq: number;
    /** Its position in the entity's history: 1 for the entity's first event. */
    version: number;
  }>;

/** Which entity a command is decided for: its id, and its version (events so far). */
export type EntityRef = Readonly<{ id: string; version: number }>;

/**
 * An event-sourced entity type in the decider shape (Emmett's `decide`/`evolve`): its state is
 * the fold of its own events, and a command is decided on that state.
 */
export type AggregateSpec<S, C, E extends AggregateEvent> = Readonly<{
  /** Part of the stored subjects (`events.@.<name>.<entity>.<type>`): letters, digits, `_`, `-`. Never rename a live aggregate. */
  name: string;
  /** The state of an entity that has no events yet. */
  initial: () => S;
  /** The state after one more event. Pure: it runs on every load, and on every replica. */
  evolve: (state: S, event: Recorded<E>) => S;
  /**
   * The events a command produces on the current state: one, several (stored all or none, in
   * order) or none. Throw to refuse the command: nothing is stored and the error reaches the
   * caller. It runs again on fresh state when another writer got to the entity first, so keep it
   * free of effects. Commands on one entity run one at a time per process: a decide that waits for
   * a command on its own entity through the same store waits forever.
   */
  decide: (command: C, state: S, entity: EntityRef) => E | readonly E[] | Promise<E | readonly E[]>;
  /**
   * Store the state every `every` events (KV `jetbus-snapshots-<name>`), so a load reads the
   * snapshot and only the events after it. Change `version` whenever the state's shape or
   * `evolve` changes: snapshots of another version are ignored (and replaced).
   */
  snapshots?: Readonly<{ every: number; version?: number }>;
}>;

const AGGREGATE = Symbol.for("jetbus.aggregate");

export type Aggregate<S = unknown, C = unknown, E extends AggregateEvent = AggregateEvent> = AggregateSpec<S, C, E> &
  Readonly<{ [AGGREGATE]: true }>;

/**
 * Defines an aggregate, the default export of a module the config's `aggregates[].module` names:
 *
 * ```ts
 * export default defineAggregate<Account, AccountCommand, AccountEvent>({
 *   name: "BankAccount",
 *   initial: () => ({ open: false, balance: 0 }),
 *   evolve: (s, e) => (e.type === "Deposited" ? { ...s, balance: s.balance + e.data.amount } : s),
 *   decide: (c, s) => ({ type: "Deposited", data: { amount: c.amount } }),
 * });
 * ```
 * A spec that cannot work (a bad name, a missing function, a bad snapshot interval) is an AggregateInvalidError.
 */
export function defineAggregate<S, C, E extends AggregateEvent>(spec: AggregateSpec<S, C, E>): Aggregate<S, C, E> {
  const problems = aggregateProblems(spec);
  if (problems.length > 0)
    throw new AggregateInvalidError(`aggregate ${JSON.stringify((spec as { name?: unknown })?.name)}: ${problems.join("; ")}`);
  return { ...spec, [AGGREGATE]: true };
}

export function isAggregate(v: unknown): v is Aggregate {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[AGGREGATE] === true;
}

/** What is wrong with a spec, one sentence each. */
export function aggregateProblems(spec: unknown): string[] {
  if (typeof spec !== "object" || spec === null) return ["must be an object { name, initial, evolve, decide }"];
  const s = spec as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof s.name !== "string") problems.push("name must be a string");
  else
    try {
      assertAggregateName(s.name);
    } catch (err) {
      problems.push((err as Error).message);
    }
  for (const fn of ["initial", "evolve", "decide"]) if (typeof s[fn] !== "function") problems.push(`${fn} must be a function`);
  if (s.snapshots !== undefined) {
    const snap = s.snapshots as { every?: unknown; version?: unknown } | null;
    if (typeof snap !== "object" || snap === null || !Number.isInteger(snap.every) || (snap.every as number) < 1)
      problems.push("snapshots.every must be a whole number >= 1");
    else if (snap.version !== undefined && !Number.isInteger(snap.version)) problems.push("snapshots.version must be a whole number");
  }
  return problems;
}
