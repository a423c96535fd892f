import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { InvalidEventError, UsageError } from "../../errors.ts";
import { dryRun, eventForDryRun } from "../../routing/dry-run.ts";
import { allOptions, withCommonOptions } from "../options.ts";

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export function registerRoute(program: Command): void {
  const route = program.command("route").description("routing rules: see which actors an event would reach, without publishing");
  withCommonOptions(
    route
      .command("test")
      .argument("<config>", "config file")
      .argument("<event>", "event JSON: a structured CloudEvent or {type, data, source?}"),
  )
    .description("dry run: print which actors an event would reach and the payload each gets; publishes nothing")
    .action(function (this: Command, configFile: string, eventFile: string) {
      const config = loadConfig(configFile);
      const event = eventForDryRun(readJson(eventFile));
      const result = dryRun(config, event);
      if (allOptions(this).json) {
        process.stdout.write(JSON.stringify(result) + "\n");
        return;
      }
      const lines = [`${event.type} (source ${event.source}) in ${result.mode} mode:`];
      if (result.copies.length === 0) lines.push(`  no rule matches: the router would publish it to ${result.unroutedSubject}`);
      for (const c of result.copies)
        lines.push(`  -> ${c.actor} via rule ${c.rule} (inbox ${c.subject})`, `     data: ${JSON.stringify(c.data)}`);
      process.stdout.write(lines.join("\n") + "\n");
    });
}
