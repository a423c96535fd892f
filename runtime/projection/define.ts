import type { Event } from "../events/types.ts";
import { ProjectionInvalidError } from "../errors.ts";

/** Marks a defineProjection result (Symbol.for: a module may import another copy of jetbus than the CLI loading it). */
const PROJECTION_MARK = Symbol.for("jetbus.projection-definition");

/**
 * Where an event's read-model key comes from: `data.<path>`, `subject` (the CloudEvents subject:
 * the entity id of an aggregate's events), `correlationid`, `source`, `type`, `id`; or a function.
 * A key that is missing, null or "" leaves the event out of the projection.
 */
export type ProjectionKey<TData> = string | ((event: Event<TData>) => string | null | undefined);

/** What defineProjection takes. */
export type ProjectionSpec<TData = unknown, TState = unknown> = Readonly<{
  /** Event types it reads: exact, or whole-token wildcards (`Account.*`, `Account.>`). Stored events only (never notifications). */
  events: readonly string[];
  key: ProjectionKey<TData>;
  /** A key's state before its first event: a value (copied per key) or a function making one. */
  initial: TState | (() => TState);
  /**
   * The key's next state: pure, deterministic and quick (it runs again on a rebuild, and again
   * after a lost write). Return `null` to delete the key. It may run again on the same event
   * (a write lost to another runner is redone on the fresh state), never apply it twice.
   */
  evolve(state: TState, event: Event<TData>): TState | null;
}>;

export type ProjectionDefinition<TData = unknown, TState = unknown> = ProjectionSpec<TData, TState> &
  Readonly<{ [PROJECTION_MARK]: true; initialState(): TState; keyOf(event: Event): string | undefined }>;

const KEY_ATTRIBUTES = new Set(["subject", "correlationid", "source", "type", "id"]);

/**
 * A read model built from the event store: a keyed document per key, changed by each chosen
 * event in store order, exactly once (see README "Projections"):
 *
 *   export default defineProjection<Deposited | Withdrawn, { balance: number }>({
 *     events: ["Deposited", "Withdrawn"],
 *     key: "data.account",
 *     initial: { balance: 0 },
 *     evolve: (s, e) => ({ balance: s.balance + (e.type === "Deposited" ? e.data.amount : -e.data.amount) }),
 *   });
 */
export function defineProjection<TData = unknown, TState = unknown>(
  spec: ProjectionSpec<TData, TState>,
): ProjectionDefinition<TData, TState> {
  const problems = specProblems(spec as ProjectionSpec);
  if (problems.length > 0) throw new TypeError(`defineProjection: ${problems.join("; ")}`);
  const initial = spec.initial;
  const initialState =
    typeof initial === "function" ? (initial as () => TState) : () => (initial === undefined ? initial : structuredClone(initial));
  const key = spec.key;
  const keyOf = typeof key === "function" ? keyFromFunction(key as (e: Event) => unknown) : keyFromAttribute(key);
  return Object.freeze({
    events: Object.freeze([...spec.events]),
    key,
    initial,
    evolve: spec.evolve.bind(spec),
    initialState,
    keyOf,
    [PROJECTION_MARK]: true as const,
  }) as ProjectionDefinition<TData, TState>;
}

export function isProjectionDefinition(value: unknown): value is ProjectionDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PROJECTION_MARK] === true;
}

function specProblems(spec: ProjectionSpec): string[] {
  if (typeof spec !== "object" || spec === null) return ["needs { events, key, initial, evolve }"];
  const problems: string[] = [];
  if (!Array.isArray(spec.events) || spec.events.length === 0 || !spec.events.every((t) => typeof t === "string" && t.length > 0))
    problems.push('events must be a non-empty list of event types (e.g. ["Deposited", "Withdrawn"])');
  if (typeof spec.key === "string") {
    if (!KEY_ATTRIBUTES.has(spec.key) && !/^data\.[^.]+(\.[^.]+)*$/.test(spec.key))
      problems.push(`key "${spec.key}" must be data.<path>, subject, correlationid, source, type, id, or a function of the event`);
  } else if (typeof spec.key !== "function") problems.push("key must be a string (data.<path>, subject, ...) or a function of the event");
  if (!("initial" in spec)) problems.push("initial is required (the state of a key before its first event)");
  if (typeof spec.evolve !== "function")
    problems.push("evolve(state, event) must be a function returning the next state (null deletes the key)");
  return problems;
}

function asKey(v: unknown): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  return typeof v === "string" ? v : JSON.stringify(v);
}

function keyFromFunction(fn: (e: Event) => unknown): (e: Event) => string | undefined {
  return (e) => asKey(fn(e));
}

function keyFromAttribute(key: string): (e: Event) => string | undefined {
  if (KEY_ATTRIBUTES.has(key)) return (e) => asKey((e as unknown as Record<string, unknown>)[key]);
  const path = key.slice("data.".length).split(".");
  return (e) => {
    let v: unknown = e.data;
    for (const part of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    return asKey(v);
  };
}

/** A definition as a configured module must export it, or a ProjectionInvalidError naming what it is instead. */
export function assertProjectionDefinition(name: string, value: unknown, file: string): ProjectionDefinition {
  if (isProjectionDefinition(value)) return value;
  const found = value === undefined ? "no default export" : `a default export of type ${typeof value}`;
  throw new ProjectionInvalidError(name, `module ${file} has ${found}; export default defineProjection({ events, key, initial, evolve })`);
}
