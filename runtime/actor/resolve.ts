import type { DependencyContainer } from "tsyringe";
import type { ActorSettings } from "../config/types.ts";
import { handlerClass } from "./registry.ts";
import { ActorTokens } from "./tokens.ts";
import type { HandlerFn } from "./types.ts";

/** Builds an actor's handler in its own child container (ActorTokens.Settings / Options injectable) and returns it as a function. */
export function resolveHandler(container: DependencyContainer, settings: ActorSettings): HandlerFn {
  const child = container.createChildContainer();
  child.register(ActorTokens.Settings, { useValue: settings });
  child.register(ActorTokens.Options, { useValue: settings.options });
  const instance = child.resolve(handlerClass(settings.handler ?? settings.name));
  return (event, ctx) => instance.handle(event, ctx);
}
