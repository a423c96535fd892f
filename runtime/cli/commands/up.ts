import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { startServices } from "../../app/services.ts";
import { urlOf } from "../../observability/http.ts";
import { allOptions, durabilityModeOf, withCommonOptions, withStrictOption } from "../options.ts";

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
  withStrictOption(withCommonOptions(program.command("up")))
    .description("run the indexer, the router and every configured actor in one process (embedded NATS unless --servers); Ctrl-C stops")
    .option("--no-http", "do not serve /metrics, /healthz, /readyz and the console")
    .action(async function (this: Command) {
      const o = allOptions<{ http?: boolean; strict?: boolean } & ReturnType<typeof allOptions>>(this);
      const rt = await startRuntime({ configPath: o.config, servers: o.servers, name: "jetbus-up", durability: durabilityModeOf(o), waitForServer: true });
      try {
        const services = await startServices(rt, { http: o.http !== false });
        rt.logger.info(
          { servers: rt.servers, actors: rt.config.actors.map((a) => a.name), http: services.http ? urlOf(services.http, "/metrics") : undefined, listen: services.http ? `${services.http.host}:${services.http.port}` : undefined, console: services.http && services.console ? urlOf(services.http) : undefined },
          "jetbus is up; Ctrl-C to stop",
        );
        await untilSignal();
        rt.logger.info("stopping: finishing in-flight events");
        // with the server gone nothing in flight can be acked: do not wait out the grace period
        await services.stop(undefined, rt.connection.lost());
      } finally {
        await rt.dispose();
      }
    });
}
