import { createRequire } from "node:module";
import type { DependencyContainer } from "tsyringe";

const require = createRequire(import.meta.url);

/**
 * Loads the Reflect metadata polyfill, which tsyringe (and any module whose decorators emitted
 * metadata) needs before it loads. Called before the first container and before actor modules
 * are imported, rather than at the CLI's start: a command that builds no handler (history, get,
 * pub) skips it. require() hands back the same instance `import "tsyringe"` does (a CommonJS package).
 */
export function loadReflectMetadata(): void {
  require("reflect-metadata");
}

/** A child of tsyringe's root container: one per runtime, so handlers resolved for one never leak into another. */
export function childContainer(): DependencyContainer {
  loadReflectMetadata();
  return (require("tsyringe") as typeof import("tsyringe")).container.createChildContainer();
}
