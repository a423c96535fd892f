import type { Command } from "commander";
import { runDemo } from "../../demo/run.ts";
import { formatReport } from "../../demo/report.ts";
import { parseDuration } from "../../config/duration.ts";
import { allOptions, withCommonOptions } from "../options.ts";

export function registerDemo(program: Command): void {
  withCommonOptions(program.command("demo"))
    .description(
      "the seed article's main(): start NATS (a fresh embedded store unless --servers), the router and the actors, produce UserCreated/UserUpdated/UserDeleted for user1 (correlation-1), wait until the actors handled them, print what the store holds, exit",
    )
    .option("--timeout <duration>", "how long to wait for the actors (e.g. 30s, 2m; digits alone are milliseconds)", "60s")
    .action(async function (this: Command) {
      const o = allOptions<{ timeout: string } & ReturnType<typeof allOptions>>(this);
      const report = await runDemo({
        configPath: o.config,
        servers: o.servers,
        timeoutMs: parseDuration(o.timeout, "--timeout"),
        say: o.json ? undefined : (l) => process.stdout.write(l + "\n"),
      });
      if (o.json)
        process.stdout.write(
          JSON.stringify({
            createdCount: report.createdCount,
            correlationCount: report.correlationCount,
            handled: report.handled.map((h) => ({ event: h.event.type, id: h.event.id, actor: h.actor, ...h.marker })),
          }) + "\n",
        );
      else process.stdout.write(formatReport(report));
    });
}
