import type { Command } from "commander";
import { startRuntime, type Runtime } from "../app/bootstrap.ts";

/** Flags every command shares. */
export type CommonOptions = { servers?: string; config?: string; json?: boolean; debug?: boolean };

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option("-s, --servers <urls>", "NATS server URLs, comma-separated (default: $NATS_URL, then config, then an embedded server)")
    .option("-c, --config <file>", "config file (default: jetbus.config.json when present)")
    .option("--json", "machine-readable output: one JSON document per line")
    .option("--debug", "print stack traces on errors");
}

/** Runs `fn` with a started runtime and always disposes it. */
export async function withRuntime<T>(opts: CommonOptions, fn: (rt: Runtime) => Promise<T>, name = "jetbus-cli"): Promise<T> {
  const rt = await startRuntime({ configPath: opts.config, servers: opts.servers, name });
  try {
    return await fn(rt);
  } finally {
    await rt.dispose();
  }
}

/** The options of a command merged with those of its parents (flags may come before or after the subcommand). */
export function allOptions<T extends CommonOptions>(cmd: Command): T {
  return cmd.optsWithGlobals() as T;
}
