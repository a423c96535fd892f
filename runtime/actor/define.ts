import type { Event } from "../events/types.ts";
import type { Middleware } from "./middleware/types.ts";
import type { StatefulContext, StateSpec } from "./state/types.ts";
import type { ActorContext } from "./types.ts";

/**
 * Marks a defineActor result. Symbol.for, not a module-local symbol: an actor module may import
 * a different copy of jetbus than the CLI that loads it (a nested node_modules), and both must
 * recognise the same mark.
 */
const ACTOR_MARK = Symbol.for("jetbus.actor-definition");

/**
 * The actor's own middleware: each `(next) => handler` runs around the handler, the first listed
 * outermost, inside the worker's policies (retries, dead letters, idempotency, timeout see what it
 * does as the handler's outcome). Resolve to go on, throw to fail the delivery. For a stateful
 * actor it runs around the whole handling: state read, handler and commit.
 */
export type ActorMiddleware = Middleware;

/** What defineActor takes: one handler; resolve (or return) to ack, throw to fail. */
export type ActorSpec<TData = unknown> = Readonly<{
  handle(event: Event<TData>, ctx: ActorContext): Promise<void> | void;
  use?: readonly ActorMiddleware[];
}>;

/** A stateful actor: per-key state (`ctx.state`), durable timers, follow-ups committed with the state. */
export type StatefulActorSpec<TData = unknown, TState = unknown> = Readonly<{
  state: StateSpec<TState>;
  handle(event: Event<TData>, ctx: StatefulContext<TState>): Promise<void> | void;
  use?: readonly ActorMiddleware[];
}>;

/** A plain-object actor handler, as exported by an actor module (`export default defineActor(...)`). */
export type ActorDefinition<TData = unknown> = ActorSpec<TData> & Readonly<{ [ACTOR_MARK]: true }>;
export type StatefulActorDefinition<TData = unknown, TState = unknown> = StatefulActorSpec<TData, TState> &
  Readonly<{ [ACTOR_MARK]: true }>;

/**
 * A handler without a class or dependency injection. `TData` types `event.data`; it is what the
 * routing rules promise, not checked at run time (event schemas check data when it is published):
 *
 *   export default defineActor<UserCreated>({ async handle(event, ctx) { ctx.logger.info(event.data.email) } });
 *
 * With `state: { key, initial }` the actor keeps state per key (`TState`), see docs/concepts/state.md:
 *
 *   export default defineActor<Counted, { n: number }>({ state: { key: "data.key", initial: { n: 0 } },
 *     async handle(event, ctx) { ctx.state.set({ n: ctx.state.get().n + 1 }) } });
 */
export function defineActor<TData = unknown, TState = unknown>(
  spec: StatefulActorSpec<TData, TState>,
): StatefulActorDefinition<TData, TState>;
export function defineActor<TData = unknown>(spec: ActorSpec<TData>): ActorDefinition<TData>;
export function defineActor(spec: ActorSpec | StatefulActorSpec): ActorDefinition | StatefulActorDefinition {
  if (typeof spec?.handle !== "function") throw new TypeError("defineActor needs an object with a handle(event, ctx) method");
  const use = middlewareOf(spec.use);
  if ("state" in spec && spec.state !== undefined) {
    const s = spec.state as StateSpec<unknown>;
    if (typeof s?.key !== "string" || !("initial" in s))
      throw new TypeError('defineActor: state needs { key: "data.<path>" | "correlationid" | ..., initial }');
    return Object.freeze({ state: s, handle: spec.handle.bind(spec) as StatefulActorSpec["handle"], use, [ACTOR_MARK]: true as const });
  }
  return Object.freeze({ handle: (spec as ActorSpec).handle.bind(spec), use, [ACTOR_MARK]: true as const });
}

function middlewareOf(use: unknown): readonly ActorMiddleware[] {
  if (use === undefined) return [];
  if (!Array.isArray(use) || !use.every((m) => typeof m === "function"))
    throw new TypeError("defineActor: use must be a list of middleware, each (next) => (event, ctx) => Promise<void>");
  return Object.freeze([...(use as ActorMiddleware[])]);
}

export function isActorDefinition(value: unknown): value is ActorDefinition | StatefulActorDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[ACTOR_MARK] === true;
}

export function isStatefulDefinition(value: unknown): value is StatefulActorDefinition {
  return isActorDefinition(value) && "state" in value && value.state !== undefined;
}
