import type { Command } from "commander";
import { DEFAULT_CONFIG_FILE } from "../../config/load.ts";
import { initProject, newActor, writeEventTypes, type ScaffoldReport } from "../scaffold/project.ts";
import { EXAMPLE_EVENT } from "../scaffold/templates.ts";

function print(report: ScaffoldReport, json: boolean | undefined, next: string[] = []): void {
  if (json) {
    process.stdout.write(JSON.stringify({ files: report }) + "\n");
    return;
  }
  for (const r of report) process.stdout.write(`${r.action.padEnd(7)} ${r.file}\n`);
  if (next.length) process.stdout.write(`\nnext:\n${next.map((l) => `  ${l}`).join("\n")}\n`);
}

/** `jetbus init`, `jetbus new actor`, `jetbus types`: start a project, add actors, type its events. */
export function registerScaffold(program: Command): void {
  program
    .command("init")
    .argument("[dir]", "project directory", ".")
    .option("--json", "list the files written as JSON")
    .description(
      "start a jetbus project: config, an example actor module and its rule, an event schema and its type, tsconfig, npm scripts",
    )
    .action((dir: string, o: { json?: boolean }) => {
      print(initProject(dir), o.json, [
        "npx jetbus up                # embedded nats-server, router and actors; Ctrl-C stops",
        `npx jetbus pub ${EXAMPLE_EVENT} '{"user_id":"u1","email":"ada@example.com"}'   # in another terminal`,
      ]);
    });

  program
    .command("new")
    .description("add to a project made by `jetbus init` (so far: an actor)")
    .command("actor")
    .argument("<name>", "actor name (lower-case letters, digits, - and _)")
    .requiredOption("-t, --type <type>", "event type (or pattern) the new rule routes to it")
    .option("-c, --config <file>", "config file", DEFAULT_CONFIG_FILE)
    .option("--json", "list the files written as JSON")
    .description("add an actor: actors/NAME.ts (defineActor), its entry in the config, and a rule routing --type to it")
    .action((name: string, o: { type: string; config: string; json?: boolean }) => {
      print(newActor(o.config, name, o.type), o.json);
    });

  program
    .command("types")
    .argument("[dir]", "project directory", ".")
    .option("--json", "list the files written as JSON")
    .description("generate types/events.d.ts from schemas/events/*.json: typed event data for defineActor<T> and bus.publish(type, data)")
    .action((dir: string, o: { json?: boolean }) => {
      print(writeEventTypes(dir), o.json);
    });
}
