import { existsSync, readdirSync } from "node:fs";
import { importProjectModule, projectPath } from "../../project-module.ts";
import { ConfigError, type Problem } from "../../errors.ts";
import { useUpcasters } from "./registry.ts";
import { chainsOf, isUpcasterDefinition, upcasterProblems, type UpcasterDefinition } from "./upcasters.ts";

/** `<Type>@<N>.json` in an event schema folder: the schema of version N of a type (`<Type>.json` is its latest). */
const VERSIONED_FILE = /^(.+)@(0|[1-9][0-9]*)\.json$/;

/** The upcasters module the config names (`upcasters`, relative to the config file): its default export, checked. */
export async function loadUpcasters(path: string, projectDir: string): Promise<UpcasterDefinition> {
  const file = projectPath(path, projectDir);
  let ns: Record<string, unknown>;
  try {
    ns = await importProjectModule(file);
  } catch (err) {
    throw new ConfigError(file, [{ path: "upcasters", message: (err as Error).message }]);
  }
  if (!isUpcasterDefinition(ns.default))
    throw new ConfigError(file, [
      {
        path: "upcasters",
        message: `module ${file} has ${ns.default === undefined ? "no default export" : `a default export of type ${typeof ns.default}`}; export default defineUpcasters({ Type: { 1: (data) => ... } })`,
      },
    ]);
  const problems = upcasterProblems(ns.default.table);
  if (problems.length > 0)
    throw new ConfigError(
      file,
      problems.map((p) => ({ path: `upcasters: ${p.path}`, message: p.message })),
    );
  return ns.default;
}

/** Sets this process's upcasters from the config's `upcasters` module; nothing when the config names none. */
export async function useConfiguredUpcasters(config: Readonly<{ upcasters?: string }>, projectDir: string): Promise<void> {
  if (config.upcasters === undefined) return;
  useUpcasters(await loadUpcasters(config.upcasters, projectDir), config.upcasters);
}

/**
 * What `config validate` finds wrong between the upcasters and the event schema folder: a
 * `<Type>@<N>.json` for a version the upcasters do not bring up to the latest (no upcaster from
 * N, or N is the latest itself, whose schema is `<Type>.json`).
 */
export function versionSchemaProblems(definition: UpcasterDefinition | undefined, schemaDir: string): Problem[] {
  if (!existsSync(schemaDir)) return [];
  const chains = definition ? chainsOf(definition.table) : new Map();
  const problems: Problem[] = [];
  for (const f of readdirSync(schemaDir).sort()) {
    const m = VERSIONED_FILE.exec(f);
    if (!m) continue;
    const [type, version] = [m[1]!, Number(m[2])];
    const chain = chains.get(type);
    const path = `schemas/events/${f}`;
    if (!chain)
      problems.push({
        path,
        message: `a schema of version ${version} of ${type}, but no upcaster of ${type} takes it to a later version (config "upcasters")`,
      });
    else if (version >= chain.latest)
      problems.push({
        path,
        message: `version ${version} of ${type} is not an old one: its latest is ${chain.latest}, whose schema is ${type}.json`,
      });
    else if (version < chain.first)
      problems.push({
        path,
        message: `version ${version} of ${type}: its upcasters start at version ${chain.first}, so an event of version ${version} cannot be read`,
      });
  }
  return problems;
}

/**
 * `config validate`'s check of event versions: the `upcasters` module loads and its table is
 * sound, and the event schema folder's older-version files fit it. Every problem, none thrown.
 */
export async function eventVersionProblems(doc: unknown, projectDir: string, schemaDir: string): Promise<Problem[]> {
  const path = (doc as { upcasters?: unknown } | null)?.upcasters;
  let definition: UpcasterDefinition | undefined;
  if (typeof path === "string" && path.length > 0) {
    try {
      definition = await loadUpcasters(path, projectDir);
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
  }
  return versionSchemaProblems(definition, schemaDir);
}
