import "reflect-metadata";
import { Command, CommanderError } from "commander";
import { registerConfig } from "./commands/config.ts";
import { registerUp } from "./commands/up.ts";
import { ExitCode, exitCodeFor, reportError } from "./exit.ts";

const program = new Command("jetbus")
  .description("event-driven runtime on NATS JetStream: event store, router and actors")
  .version("0.1.0")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

registerUp(program);
registerConfig(program);

try {
  await program.parseAsync(process.argv);
  process.exitCode ??= ExitCode.Ok;
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
  } else {
    reportError(err, process.argv.includes("--debug"));
    process.exitCode = exitCodeFor(err);
  }
}
