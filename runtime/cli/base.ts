import { Command } from "commander";

/** The root `jetbus` command with its global settings, before any subcommand is registered. */
export function rootCommand(): Command {
  return new Command("jetbus")
    .description("event-driven runtime on NATS JetStream: event store, router and actors")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
}
