import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { allOptions, withCommonOptions } from "../options.ts";

/** Waits for SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(sig);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

export function registerUp(program: Command): void {
  withCommonOptions(program.command("up"))
    .description("run everything in one process for development (embedded NATS unless --servers); Ctrl-C stops")
    .action(async function (this: Command) {
      const o = allOptions(this);
      const rt = await startRuntime({ configPath: o.config, servers: o.servers, name: "jetbus-up" });
      rt.logger.info({ servers: rt.servers }, "jetbus is up; Ctrl-C to stop");
      await untilSignal();
      await rt.dispose();
    });
}
