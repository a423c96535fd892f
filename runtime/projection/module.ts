import { importProjectModule, projectPath } from "../project-module.ts";
import type { JetbusConfig, ProjectionSettings } from "../config/types.ts";
import { ProjectionInvalidError, type Problem } from "../errors.ts";
import { assertProjectionDefinition, type ProjectionDefinition } from "./define.ts";
import { projectionFilters } from "./filters.ts";

/** A configured projection with its definition and the store subjects it reads. */
export type LoadedProjection = Readonly<{ settings: ProjectionSettings; definition: ProjectionDefinition; filters: string[] }>;

/** Imports a projection's module (`.ts` through tsx, as actor modules) and checks its default export and event types. */
export async function loadProjection(settings: ProjectionSettings, projectDir: string): Promise<LoadedProjection> {
  const file = projectPath(settings.module, projectDir);
  let ns: Record<string, unknown>;
  try {
    ns = await importProjectModule(file);
  } catch (err) {
    throw new ProjectionInvalidError(settings.name, (err as Error).message, err);
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
