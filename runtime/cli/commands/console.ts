import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { UsageError } from "../../errors.ts";
import { consoleToken } from "../../console/auth.ts";
import { serveConsole } from "../../console/serve.ts";
import { allOptions, withCommonOptions, type CommonOptions } from "../options.ts";
import { untilSignal } from "./up.ts";

/** Default port of `jetbus console`: fixed, so a bookmark keeps working (0 picks a free one). */
export const CONSOLE_PORT = 4280;

function portOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(v)}`);
  return n;
}

export function registerConsole(program: Command): void {
  withCommonOptions(program.command("console"))
    .description(
      "serve the web console alone against any deployment (flows, actors, events, trace, dead letters, config, cluster) until Ctrl-C",
    )
    .option("-p, --port <n>", "port to listen on (0 picks a free one)", String(CONSOLE_PORT))
    .option("--host <address>", "address to bind; anything but 127.0.0.1 also answers remote clients", "127.0.0.1")
    .action(async function (this: Command) {
      const o = allOptions<CommonOptions & { port: string; host: string }>(this);
      const port = portOf(o.port);
      const rt = await startRuntime({ configPath: o.config, servers: o.servers, name: "jetbus-console" });
      try {
        const c = rt.config.observability.console;
        const server = await serveConsole(
          { nc: rt.nc, config: rt.config, logger: rt.logger, token: consoleToken(c) },
          { port, host: o.host, ...(c?.public ? { public: true } : {}) },
        );
        const admin = consoleToken(c) !== undefined;
        const signalled = untilSignal();
        process.stdout.write(
          o.json
            ? JSON.stringify({ console: server.url, servers: rt.servers, admin }) + "\n"
            : `console at ${server.url} (${admin ? "replay, apply and rollback allowed with the admin token" : "read-only"}); Ctrl-C stops\n`,
        );
        await signalled;
        await server.close();
      } finally {
        await rt.dispose();
      }
    });
}
