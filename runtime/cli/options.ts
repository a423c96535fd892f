import type { Command } from "commander";
import { startRuntime, type Runtime } from "../app/bootstrap.ts";
import { DurabilityMode } from "../app/startup-durability.ts";
import { noticeStoreDrift } from "../app/store-notice.ts";

/** Flags every command shares. */
export type CommonOptions = { servers?: string; config?: string; json?: boolean; debug?: boolean };

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option("-s, --servers <urls>", "NATS server URLs, comma-separated (default: $NATS_URL, then config, then an embedded server)")
    .option("-c, --config <file>", "config file (default: jetbus.config.json when present)")
    .option("--json", "machine-readable output: one JSON document per line")
    .option("--debug", "print stack traces on errors");
}

/**
 * Runs `fn` with a started runtime and always disposes it; first says once on stderr when the store
 * differs from the config. `readOnly`: a read that asks the server only what it needs (`history`:
 * one request), without the drift notice (the store is read as it is) or the JetStream check (its
 * own requests are retried while a cluster elects a leader).
 */
export async function withRuntime<T>(
  opts: CommonOptions,
  fn: (rt: Runtime) => Promise<T>,
  name = "jetbus-cli",
  readOnly = false,
): Promise<T> {
  const rt = await startRuntime({ configPath: opts.config, servers: opts.servers, name, jetStreamCheck: !readOnly });
  try {
    if (!readOnly) await noticeStoreDrift(rt.nc, rt.config);
    return await fn(rt);
  } finally {
    await rt.dispose();
  }
}

/** The options of a command merged with those of its parents (flags may come before or after the subcommand). */
export function allOptions<T extends CommonOptions>(cmd: Command): T {
  return cmd.optsWithGlobals() as T;
}

/** `--strict` of the long-running commands (up, actor, router): durability findings stop the start instead of warning. */
export function withStrictOption(cmd: Command): Command {
  return cmd.option(
    "--strict",
    "refuse to start (exit 2) when the durability check finds an R1 stream or bucket on a cluster or a store that differs from the config; default: log them as warnings",
  );
}

export function durabilityModeOf(o: { strict?: boolean }): DurabilityMode {
  return o.strict ? DurabilityMode.Strict : DurabilityMode.Warn;
}
