import { CommanderError } from "commander";
import { programFor } from "./one-command.ts";
import { ExitCode, exitCodeFor, reportError } from "./exit.ts";
import { stopQuietlyWhenOutputCloses } from "./closed-pipe.ts";

stopQuietlyWhenOutputCloses();
// the command tree lives in program.ts (importable without side effects); this file only runs it
const program = await programFor(process.argv);

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
