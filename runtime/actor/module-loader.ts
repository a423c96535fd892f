import { importProjectModule, projectPath, type ImportOptions } from "../project-module.ts";
import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import { HandlerInvalidError, type Problem } from "../errors.ts";
import { isActorDefinition } from "./define.ts";
import { registeredHandler, type HandlerSource } from "./registry.ts";

function isHandlerClass(value: unknown): boolean {
  return typeof value === "function" && typeof (value as { prototype?: { handle?: unknown } }).prototype?.handle === "function";
}

/** The handler a module exports: its default export, a defineActor result or a class with handle(event, ctx). */
function handlerExportOf(ns: Record<string, unknown>): HandlerSource | undefined {
  const candidate = ns.default;
  if (isActorDefinition(candidate)) return candidate;
  if (isHandlerClass(candidate)) return candidate as HandlerSource;
  return undefined;
}

export type LoadOptions = ImportOptions;

/** Imports an actor module (an absolute path) and returns its handler, or throws HandlerInvalidError naming what is wrong. */
export async function loadActorModule(actor: string, file: string, opts: LoadOptions = {}): Promise<HandlerSource> {
  let ns: Record<string, unknown>;
  try {
    ns = await importProjectModule(file, opts);
  } catch (err) {
    throw new HandlerInvalidError(actor, (err as Error).message, (err as Error).cause ?? err);
  }
  const handler = handlerExportOf(ns);
  if (!handler) {
    const found = ns.default === undefined ? "no default export" : `a default export of type ${typeof ns.default}`;
    throw new HandlerInvalidError(
      actor,
      `module ${file} has ${found}; export default defineActor({ handle(event, ctx) { ... } }) or a class with handle(event, ctx)`,
    );
  }
  return handler;
}

/** Where an actor's module is: `module` is relative to the config file's directory. */
export function modulePathOf(settings: ActorSettings, projectDir: string): string | undefined {
  if (settings.module === undefined) return undefined;
  return projectPath(settings.module, projectDir);
}

/**
 * The handler of one configured actor: its module when it names one, else the handler registered
 * under `handler` (default: its name), in `own` first (see registeredHandler).
 */
export async function handlerSourceFor(
  settings: ActorSettings,
  projectDir: string,
  opts: LoadOptions = {},
  own?: ReadonlyMap<string, HandlerSource>,
): Promise<HandlerSource> {
  const file = modulePathOf(settings, projectDir);
  if (file !== undefined) return loadActorModule(settings.name, file, opts);
  return registeredHandler(settings.handler ?? settings.name, own);
}

/**
 * Loads every actor module of a config and lists each one that is missing or exports no handler,
 * and each stateful one whose settings contradict its state (`checkHandler`), with its JSON path.
 */
export async function checkActorModules(
  config: JetbusConfig,
  projectDir: string,
  checkHandler?: (index: number, settings: ActorSettings, source: HandlerSource) => Problem[],
): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [i, settings] of config.actors.entries()) {
    const file = modulePathOf(settings, projectDir);
    if (file === undefined) continue;
    try {
      const source = await loadActorModule(settings.name, file);
      if (checkHandler) problems.push(...checkHandler(i, settings, source));
    } catch (err) {
      if (!(err instanceof HandlerInvalidError)) throw err;
      problems.push({ path: `actors[${i}].module`, message: err.message.replace(/^actor "[^"]*": /, "") });
    }
  }
  return problems;
}
