import type { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { allOptions, withCommonOptions } from "../options.ts";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("validate, apply and inspect the jetbus config");
  withCommonOptions(config.command("validate").argument("[file]", "config file", "jetbus.config.json"))
    .description("check a config file against the schema and the semantic rules; exit 2 listing every problem")
    .action(function (this: Command, file: string) {
      const c = loadConfig(file);
      const o = allOptions(this);
      if (o.json) process.stdout.write(JSON.stringify({ valid: true, file, config: c }) + "\n");
      else process.stdout.write(`${file}: valid (${c.actors.length} actors, ${c.routes.rules.length} rules)\n`);
    });
}
