import { HandlerInvalidError, UsageError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import type { ActorDefinition, StatefulActorDefinition } from "./define.ts";
import type { HandlerClass } from "./types.ts";

/** Either form of handler: a class built by tsyringe, or a defineActor object. */
export type HandlerSource = HandlerClass | ActorDefinition | StatefulActorDefinition;

/**
 * Handlers by name, for `actors[].handler` (default: the actor's name). The runtime registers
 * none itself: the app layer registers the built-in ones (actors/mod.ts), tests and embedding
 * services their own. An actor with `module` needs no registration.
 */
const handlers = new Map<string, HandlerSource>();

export function registerHandler(name: string, handler: HandlerSource): void {
  const existing = handlers.get(name);
  if (existing && existing !== handler) throw new UsageError(`a different handler is already registered as "${name}"`);
  handlers.set(name, handler);
}

/** The handler registered as `name`: one of `own` (an embedding service's, createJetbus's `handlers`) first, else the process-wide one. */
export function registeredHandler(name: string, own?: ReadonlyMap<string, HandlerSource>): HandlerSource {
  const handler = own?.get(name) ?? handlers.get(name);
  if (!handler) {
    const known = [...new Set([...(own?.keys() ?? []), ...handlers.keys()])].sort();
    // a config problem (exit 2), not a missing record: the hint points at `config validate`
    throw new HandlerInvalidError(
      name,
      `no handler registered as "${name}" (known: ${known.length ? known.join(", ") : "none"}${didYouMean(name, known)}); give the actor a "module" (a file exporting defineActor(...) or a handler class) or registerHandler("${name}", ...) before starting`,
    );
  }
  return handler;
}

export function registeredHandlers(): string[] {
  return [...handlers.keys()].sort();
}
