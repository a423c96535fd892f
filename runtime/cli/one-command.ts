import type { Command } from "commander";
import { rootCommand } from "./base.ts";

type Register = (program: Command) => void;

/**
 * Frequent one-shot commands, each loaded alone: importing the whole command tree (program.ts)
 * loads every command's dependencies, the console, cluster and demo code included, which cost a
 * one-shot `jetbus history` most of its start-up time (see the `oneshot` bench). Any command not
 * listed here, and every `--help`, goes through the whole tree, so a command missing from this
 * list is only slower, never different.
 */
const ALONE: Readonly<Record<string, () => Promise<Register>>> = {
  pub: async () => (await import("./commands/pub.ts")).registerPub,
  get: async () => (await import("./commands/get.ts")).registerGet,
  history: async () => (await import("./commands/history.ts")).registerHistory,
  trace: async () => (await import("./commands/trace.ts")).registerTrace,
  status: async () => (await import("./commands/status.ts")).registerStatus,
  init: async () => (await import("./commands/scaffold.ts")).registerScaffold,
  new: async () => (await import("./commands/scaffold.ts")).registerScaffold,
  types: async () => (await import("./commands/scaffold.ts")).registerScaffold,
};

/** The program that runs `argv`: just its command when it is one of the frequent one-shot ones, else every command. */
export async function programFor(argv: readonly string[]): Promise<Command> {
  const name = argv[2];
  const load = name === undefined ? undefined : ALONE[name];
  if (!load || argv.includes("--help") || argv.includes("-h")) return (await import("./program.ts")).buildProgram();
  const program = rootCommand();
  (await load())(program);
  return program;
}
