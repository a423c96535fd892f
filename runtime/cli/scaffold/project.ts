import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { configFrom, parseConfigText } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { eventTypesModule, readEventSchemas } from "../../typegen/event-types.ts";
import { typeNameOf } from "../../typegen/schema-to-ts.ts";
import {
  actorTemplate,
  configTemplate,
  EXAMPLE_ACTOR,
  EXAMPLE_EVENT,
  exampleSchema,
  GITIGNORE_LINES,
  PROJECT_SCRIPTS,
  tsconfigTemplate,
} from "./templates.ts";

export const TYPES_FILE = join("types", "events.d.ts");
const ACTOR_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Files written, relative to the project directory, in order, with what happened to each. */
export type ScaffoldReport = Array<Readonly<{ file: string; action: "created" | "updated" }>>;

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

function write(dir: string, file: string, text: string, report: ScaffoldReport, action: "created" | "updated" = "created"): void {
  const path = join(dir, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  report.push({ file, action });
}

/** Regenerates the event types module from `schemas/events` of a project. */
export function writeEventTypes(dir: string, report: ScaffoldReport = []): ScaffoldReport {
  const schemas = readEventSchemas(join(dir, "schemas", "events"));
  write(dir, TYPES_FILE, eventTypesModule(schemas), report, existsSync(join(dir, TYPES_FILE)) ? "updated" : "created");
  return report;
}

/** package.json with the jetbus scripts added (existing ones kept) and "type": "module" (actor modules are ES modules). */
function packageJson(dir: string, report: ScaffoldReport): void {
  const file = join(dir, "package.json");
  const existed = existsSync(file);
  const pkg = (
    existed
      ? JSON.parse(readFileSync(file, "utf8"))
      : {
          name: basename(resolve(dir))
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, "-"),
          private: true,
        }
  ) as Record<string, unknown>;
  pkg.type = "module";
  pkg.scripts = { ...PROJECT_SCRIPTS, ...((pkg.scripts as Record<string, string> | undefined) ?? {}) };
  write(dir, "package.json", json(pkg), report, existed ? "updated" : "created");
}

function gitignore(dir: string, report: ScaffoldReport): void {
  const file = join(dir, ".gitignore");
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const missing = GITIGNORE_LINES.filter((l) => !text.split("\n").includes(l));
  if (missing.length === 0) return;
  write(
    dir,
    ".gitignore",
    (text && !text.endsWith("\n") ? text + "\n" : text) + missing.join("\n") + "\n",
    report,
    text ? "updated" : "created",
  );
}

/**
 * `jetbus init`: a config with one actor module and the rule routing to it, the event's schema,
 * its generated type, a tsconfig, npm scripts. Refuses to overwrite the files it creates.
 */
export function initProject(dir: string): ScaffoldReport {
  const created = ["jetbus.config.json", `actors/${EXAMPLE_ACTOR}.ts`, `schemas/events/${EXAMPLE_EVENT}.json`];
  const existing = created.filter((f) => existsSync(join(dir, f)));
  if (existing.length)
    throw new UsageError(
      `${existing.join(", ")} already exist${existing.length === 1 ? "s" : ""} in ${resolve(dir)}: jetbus init only starts new projects (add actors with \`jetbus new actor NAME --type TYPE\`)`,
    );
  const report: ScaffoldReport = [];
  write(dir, "jetbus.config.json", json(configTemplate()), report);
  write(dir, `schemas/events/${EXAMPLE_EVENT}.json`, json(exampleSchema()), report);
  write(dir, `actors/${EXAMPLE_ACTOR}.ts`, actorTemplate(EXAMPLE_ACTOR, EXAMPLE_EVENT, typeNameOf(EXAMPLE_EVENT)), report);
  writeEventTypes(dir, report);
  if (!existsSync(join(dir, "tsconfig.json"))) write(dir, "tsconfig.json", json(tsconfigTemplate()), report);
  packageJson(dir, report);
  gitignore(dir, report);
  return report;
}

/**
 * `jetbus new actor NAME --type TYPE`: the handler module, its config entry and a rule routing
 * TYPE to it. The config is checked (schema and rules) before anything is written.
 */
export function newActor(configPath: string, name: string, eventType: string): ScaffoldReport {
  if (!ACTOR_NAME.test(name))
    throw new UsageError(
      `actor name ${JSON.stringify(name)} must be lower-case letters, digits, - and _ (starting with a letter or digit)`,
    );
  if (!existsSync(configPath)) throw new UsageError(`${configPath} does not exist: run \`jetbus init\` first, or pass --config`);
  const dir = dirname(resolve(configPath));
  const moduleFile = join("actors", `${name}.ts`);
  if (existsSync(join(dir, moduleFile))) throw new UsageError(`${join(dir, moduleFile)} already exists`);
  const doc = parseConfigText(readFileSync(configPath, "utf8"), configPath) as {
    actors?: Array<Record<string, unknown>>;
    routes?: { rules?: unknown[] };
  };
  if ((doc.actors ?? []).some((a) => a.name === name)) throw new UsageError(`the config already has an actor named "${name}"`);
  doc.actors = [...(doc.actors ?? []), { name, module: `./${moduleFile}` }];
  doc.routes = { ...(doc.routes ?? {}), rules: [...(doc.routes?.rules ?? []), { name, match: { type: eventType }, to: [name] }] };
  configFrom(structuredClone(doc), configPath); // throws ConfigError listing every problem; the file stays untouched
  const hasSchema = existsSync(join(dir, "schemas", "events", `${eventType}.json`));
  const report: ScaffoldReport = [];
  write(dir, moduleFile, actorTemplate(name, eventType, hasSchema ? typeNameOf(eventType) : undefined), report);
  write(dir, relative(dir, resolve(configPath)), json(doc), report, "updated");
  if (hasSchema) writeEventTypes(dir, report);
  return report;
}
