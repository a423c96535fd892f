import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureTypeScriptLoader } from "../actor/module-loader.ts";
import type { JetbusConfig, ProjectionSettings } from "../config/types.ts";
import { ProjectionInvalidError, type Problem } from "../errors.ts";
import { assertProjectionDefinition, type ProjectionDefinition } from "./define.ts";
import { projectionFilters } from "./filters.ts";

const require = createRequire(import.meta.url);
const TYPESCRIPT = new Set([".ts", ".mts", ".cts", ".tsx"]);

/** A configured projection with its definition and the store subjects it reads. */
export type LoadedProjection = Readonly<{ settings: ProjectionSettings; definition: ProjectionDefinition; filters: string[] }>;

/** Where a projection's module is: relative to the config file's directory. */
export function projectionModulePath(settings: ProjectionSettings, projectDir: string): string {
  return isAbsolute(settings.module) ? settings.module : resolve(projectDir, settings.module);
}

/** Imports a projection's module (`.ts` through tsx, as actor modules) and checks its default export and event types. */
export async function loadProjection(settings: ProjectionSettings, projectDir: string): Promise<LoadedProjection> {
  const file = projectionModulePath(settings, projectDir);
  if (!existsSync(file)) throw new ProjectionInvalidError(settings.name, `module ${file} does not exist`);
  if (TYPESCRIPT.has(extname(file))) await ensureTypeScriptLoader();
  require("reflect-metadata");
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ProjectionInvalidError(settings.name, `module ${file} failed to load: ${(err as Error)?.message ?? String(err)}`, err);
  }
  const definition = assertProjectionDefinition(settings.name, ns.default, file);
  return { settings, definition, filters: projectionFilters(settings.name, definition.events) };
}

/** The configured projection `name`, or a ProjectionInvalidError listing the configured ones. */
export function projectionSettings(config: Pick<JetbusConfig, "projections">, name: string): ProjectionSettings {
  const s = config.projections.find((p) => p.name === name);
  if (!s) {
    const known = config.projections.map((p) => p.name);
    throw new ProjectionInvalidError(name, `not in the config's projections[] (configured: ${known.length ? known.join(", ") : "none"})`);
  }
  return s;
}

/** Loads every projection module of a config and lists each problem with its JSON path (`config validate`). */
export async function checkProjectionModules(config: Pick<JetbusConfig, "projections">, projectDir: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [i, settings] of config.projections.entries()) {
    try {
      await loadProjection(settings, projectDir);
    } catch (err) {
      if (!(err instanceof ProjectionInvalidError)) throw err;
      problems.push({ path: `projections[${i}].module`, message: err.message.replace(/^projection "[^"]*": /, "") });
    }
  }
  return problems;
}
