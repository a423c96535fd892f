import { NotFoundError, UsageError } from "../errors.ts";
import type { HandlerClass } from "./types.ts";

/**
 * Handler classes by name. Config names a handler (`actors[].handler`, default the actor's name);
 * actors/mod.ts registers the built-in ones, tests and fixtures register their own.
 */
const handlers = new Map<string, HandlerClass>();

export function registerHandler(name: string, cls: HandlerClass): void {
  const existing = handlers.get(name);
  if (existing && existing !== cls) throw new UsageError(`a different handler class is already registered as "${name}"`);
  handlers.set(name, cls);
}

export function handlerClass(name: string): HandlerClass {
  const cls = handlers.get(name);
  if (!cls) {
    const known = [...handlers.keys()].sort();
    throw new NotFoundError(`no handler registered as "${name}" (known: ${known.length ? known.join(", ") : "none"}); register it in actors/mod.ts`);
  }
  return cls;
}

export function registeredHandlers(): string[] {
  return [...handlers.keys()].sort();
}
