import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import { HandlerInvalidError, type Problem } from "../errors.ts";
import { isActorDefinition } from "./define.ts";
import { registeredHandler, type HandlerSource } from "./registry.ts";

const require = createRequire(import.meta.url);
const TYPESCRIPT = new Set([".ts", ".mts", ".cts", ".tsx"]);

let tsxRegistered: Promise<void> | undefined;

/**
 * TypeScript actor modules load through tsx's loader hooks, registered once and only when a `.ts`
 * module is first configured: a project of `.js` modules never pays for tsx (~100 ms of start-up).
 * Hooks, not tsx's scoped tsImport: a scoped import loads a second copy of every dependency,
 * and a second tsyringe would not know the classes the first one builds.
 */
function ensureTypeScriptLoader(): Promise<void> {
  tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

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

export type LoadOptions = Readonly<{
  /** Appended to the module URL as a query: a new value loads the file again instead of the cached module (`up --watch`). */
  version?: number;
}>;

/** Imports an actor module (an absolute path) and returns its handler, or throws HandlerInvalidError naming what is wrong. */
export async function loadActorModule(actor: string, file: string, opts: LoadOptions = {}): Promise<HandlerSource> {
  if (!existsSync(file)) throw new HandlerInvalidError(actor, `module ${file} does not exist`);
  if (TYPESCRIPT.has(extname(file))) await ensureTypeScriptLoader();
  // the Reflect metadata polyfill before the module: its decorators may record metadata, and its
  // tsyringe import refuses to load without it (the CLI loads it only for commands that run actors)
  require("reflect-metadata");
  // a module of a project without "type": "module" is CommonJS: tsx loads it through require, whose
  // cache is keyed by file name and ignores the URL query, so a reload has to drop it there too
  if (opts.version !== undefined) delete require.cache[file];
  const url = pathToFileURL(file).href + (opts.version === undefined ? "" : `?v=${opts.version}`);
  let ns: Record<string, unknown>;
  try {
    ns = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new HandlerInvalidError(actor, `module ${file} failed to load: ${(err as Error)?.message ?? String(err)}`, err);
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
  return isAbsolute(settings.module) ? settings.module : resolve(projectDir, settings.module);
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
