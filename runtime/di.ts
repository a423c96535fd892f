/**
 * `jetbus/di`: what a handler class built by tsyringe needs. jetbus builds a class handler in a
 * child of its container; under tsx (and tsc without emitDecoratorMetadata) every constructor
 * parameter needs `@inject(TOKEN)`:
 *
 *   import { ActorTokens, Tokens, inject, injectable } from "jetbus/di";
 *   @injectable()
 *   export default class Greeter {
 *     constructor(@inject(ActorTokens.Options) private options: Record<string, unknown>, @inject(Tokens.Logger) private log: Logger) {}
 *     async handle(event, ctx) { ... }
 *   }
 *
 * Importing this module loads the Reflect metadata polyfill first (tsyringe refuses to load
 * without it), then tsyringe: `inject` and `injectable` from here are those of the tsyringe jetbus
 * builds with, so the classes they mark are known to its container. `import "jetbus"` does neither.
 */
import "reflect-metadata";

export { inject, injectable } from "tsyringe";
export { Tokens } from "./app/tokens.ts";
export { ActorTokens } from "./actor/tokens.ts";
