import { importProjectModule, projectPath } from "../project-module.ts";
import type { AggregateSettings } from "../config/types.ts";
import { AggregateInvalidError, UsageError, type Problem } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import { aggregateProblems, isAggregate, type Aggregate } from "./define.ts";

/** One configured aggregate's definition: its module's default export, whose name must be the configured one. */
export async function loadAggregateModule(settings: AggregateSettings, projectDir: string): Promise<Aggregate> {
  const file = projectPath(settings.module, projectDir);
  let ns: Record<string, unknown>;
  try {
    ns = await importProjectModule(file);
  } catch (err) {
    throw new AggregateInvalidError(`aggregate "${settings.name}": ${(err as Error).message}`, (err as Error).cause ?? err);
  }
  const def = ns.default;
  if (!isAggregate(def)) {
    const problems = typeof def === "object" && def !== null ? aggregateProblems(def) : [];
    const found =
      def === undefined
        ? "no default export"
        : `a default export that is not an aggregate${problems.length ? ` (${problems.join("; ")})` : ""}`;
    throw new AggregateInvalidError(
      `aggregate "${settings.name}": module ${file} has ${found}; export default defineAggregate({ name, initial, evolve, decide })`,
    );
  }
  if (def.name !== settings.name)
    throw new AggregateInvalidError(
      `aggregate "${settings.name}": module ${file} defines the aggregate "${def.name}" (the name is part of its events' subjects: make the config say "${def.name}", or rename it in the module before any event is stored)`,
    );
  return def;
}

/** The configured aggregate called `name` (the CLI's TYPE argument), loaded; an unknown name is a UsageError naming the configured ones. */
export async function configuredAggregate(
  config: Readonly<{ aggregates: readonly AggregateSettings[] }>,
  name: string,
  projectDir: string,
): Promise<Aggregate> {
  const settings = config.aggregates.find((a) => a.name === name);
  if (!settings) {
    const names = config.aggregates.map((a) => a.name);
    throw new UsageError(
      `no aggregate "${name}" in the config's aggregates[]${names.length ? ` (configured: ${names.join(", ")})${didYouMean(name, names)}` : ' (it lists none: add { "name": ..., "module": ... })'}`,
    );
  }
  return loadAggregateModule(settings, projectDir);
}

/** Loads every configured aggregate module and lists each one that does not load or does not match its entry, with its JSON path. */
export async function checkAggregateModules(
  config: Readonly<{ aggregates?: readonly AggregateSettings[] }>,
  projectDir: string,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const [i, settings] of (config.aggregates ?? []).entries()) {
    if (typeof settings?.module !== "string" || typeof settings.name !== "string") continue; // the schema reports it
    try {
      await loadAggregateModule(settings, projectDir);
    } catch (err) {
      if (!(err instanceof AggregateInvalidError)) throw err;
      problems.push({ path: `aggregates[${i}].module`, message: err.message.replace(/^aggregate "[^"]*": /, "") });
    }
  }
  return problems;
}
