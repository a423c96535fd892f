import { loadReflectMetadata } from "./container.ts";

/**
 * Registers the handlers that ship with jetbus (`user-handler`, `email-handler`, `noop`: the
 * seed's actors in actors/) so config can name them in `actors[].handler`. The app layer does
 * this, not the actor runtime: the runtime knows no particular handler. Loaded on first call,
 * not at import: the classes use tsyringe decorators, which need reflect-metadata loaded first.
 */
export async function registerBuiltinHandlers(): Promise<void> {
  loadReflectMetadata();
  await import("../../actors/mod.ts");
}
