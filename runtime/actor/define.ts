import type { Event } from "../events/types.ts";
import type { ActorContext } from "./types.ts";

/**
 * Marks a defineActor result. Symbol.for, not a module-local symbol: an actor module may import
 * a different copy of jetbus than the CLI that loads it (a nested node_modules), and both must
 * recognise the same mark.
 */
const ACTOR_MARK = Symbol.for("jetbus.actor-definition");

/** What defineActor takes: one handler; resolve (or return) to ack, throw to fail. */
export type ActorSpec<TData = unknown> = Readonly<{
  handle(event: Event<TData>, ctx: ActorContext): Promise<void> | void;
}>;

/** A plain-object actor handler, as exported by an actor module (`export default defineActor(...)`). */
export type ActorDefinition<TData = unknown> = ActorSpec<TData> & Readonly<{ [ACTOR_MARK]: true }>;

/**
 * A handler without a class or dependency injection. `TData` types `event.data`; it is what the
 * routing rules promise, not checked at run time (event schemas check data when it is published):
 *
 *   export default defineActor<UserCreated>({ async handle(event, ctx) { ctx.logger.info(event.data.email) } });
 */
export function defineActor<TData = unknown>(spec: ActorSpec<TData>): ActorDefinition<TData> {
  if (typeof spec?.handle !== "function") throw new TypeError("defineActor needs an object with a handle(event, ctx) method");
  return Object.freeze({ handle: spec.handle.bind(spec), [ACTOR_MARK]: true as const });
}

export function isActorDefinition(value: unknown): value is ActorDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[ACTOR_MARK] === true;
}
