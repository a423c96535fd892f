import type { DependencyContainer } from "tsyringe";
import type { ActorSettings } from "../config/types.ts";
import { HandlerInvalidError } from "../errors.ts";
import { isActorDefinition, isStatefulDefinition, type ActorDefinition } from "./define.ts";
import { compose } from "./middleware/compose.ts";
import type { HandlerSource } from "./registry.ts";
import { ActorTokens } from "./tokens.ts";
import type { HandlerClass, HandlerFn } from "./types.ts";

/**
 * tsyringe's words when a constructor has parameters it has no type information for. jetbus runs
 * TypeScript through tsx/esbuild and tsc without emitDecoratorMetadata, so a parameter without
 * @inject(TOKEN) is never resolvable.
 */
const NO_TYPE_INFO = /^TypeInfo not known for "(.*)"$/;

function missingInject(settings: ActorSettings, cls: HandlerClass, cause: unknown): HandlerInvalidError {
  return new HandlerInvalidError(
    settings.name,
    `handler class ${cls.name || "(anonymous)"} has ${cls.length} constructor parameter(s) without @inject(TOKEN): ` +
      `decorate the class with @injectable() and each parameter with @inject(TOKEN), e.g. ` +
      `constructor(@inject(ActorTokens.Options) options: Record<string, unknown>) (tokens: ActorTokens.Options, ActorTokens.Settings, Tokens.Logger, Tokens.Nats, Tokens.Config, Tokens.Metrics, or your own registered in the container); ` +
      `jetbus emits no decorator metadata, so parameter types alone are not enough`,
    cause,
  );
}

function buildInstance(container: DependencyContainer, settings: ActorSettings, cls: HandlerClass): HandlerFn {
  const child = container.createChildContainer();
  child.register(ActorTokens.Settings, { useValue: settings });
  child.register(ActorTokens.Options, { useValue: settings.options });
  let instance;
  try {
    instance = child.resolve(cls);
  } catch (err) {
    if (NO_TYPE_INFO.test((err as Error)?.message ?? "")) throw missingInject(settings, cls, err);
    throw err;
  }
  if (typeof instance?.handle !== "function")
    throw new HandlerInvalidError(settings.name, `handler class ${cls.name} has no handle(event, ctx) method`);
  return (event, ctx) => instance.handle(event, ctx);
}

/**
 * A defineActor handler as a HandlerFn without an async wrapper (a promise of its own per event):
 * a returned promise is passed on as it is, a synchronous throw becomes a rejection, so the actor's
 * own middleware sees every failure the same way.
 */
function definedHandler(source: ActorDefinition): HandlerFn {
  return (event, ctx) => {
    try {
      return Promise.resolve(source.handle(event, ctx));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  };
}

/**
 * An actor's handler as a function: a defineActor object is called as is, inside its own
 * middleware (`use`); a class is built in its own child container (ActorTokens.Settings / Options injectable).
 */
export function resolveHandler(container: DependencyContainer, settings: ActorSettings, source: HandlerSource): HandlerFn {
  if (isStatefulDefinition(source))
    throw new HandlerInvalidError(
      settings.name,
      "a stateful handler (defineActor with state) runs through startActors, which opens its state bucket",
    );
  if (isActorDefinition(source)) return compose(definedHandler(source), ...(source.use ?? []));
  return buildInstance(container, settings, source);
}
