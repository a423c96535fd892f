import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { startServices } from "../../app/services.ts";
import { urlOf } from "../../observability/http.ts";
import { existsSync } from "node:fs";
import { registerBuiltinHandlers } from "../../app/builtin-handlers.ts";
import { describeSync, syncLiveConfig } from "../../app/config-sync.ts";
import { watchActors, type ActorReloader } from "../../app/actor-reload.ts";
import { DEFAULT_CONFIG_FILE } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { stopUnlessUnreachable } from "../../app/shutdown.ts";
import { startWithRetry } from "../../app/startup-retry.ts";
import { allOptions, durabilityModeOf, withCommonOptions, withStrictOption } from "../options.ts";

/**
 * Waits for SIGINT or SIGTERM. Call it BEFORE the line that says the process is ready: until a
 * listener exists, Node leaves SIGTERM to its default action and the process dies at once (exit
 * by signal, nothing drained). A test or an orchestrator that signals right after reading the
 * ready line won that race on a loaded machine (up-dev-loop.e2e on a fresh machine: exit null).
 */
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

/** The config file `up` runs: --config, else jetbus.config.json when present, else none (built-in defaults). */
function configFileOf(given: string | undefined): string | undefined {
  return given ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
}

export function registerUp(program: Command): void {
  withStrictOption(withCommonOptions(program.command("up")))
    .description(
      "run the router (which writes the indexes), every configured actor and projection in one process (embedded NATS unless --servers); Ctrl-C stops",
    )
    .option("--no-http", "do not serve /metrics, /healthz, /readyz and the console")
    .option("-w, --watch", "restart the actors when the config file or an actor module changes (in-flight handlings finish first)")
    .action(async function (this: Command) {
      const o = allOptions<{ http?: boolean; strict?: boolean; watch?: boolean } & ReturnType<typeof allOptions>>(this);
      const file = configFileOf(o.config);
      if (o.watch && !file)
        throw new UsageError(`--watch needs a config file: none given and no ${DEFAULT_CONFIG_FILE} here (run \`jetbus init\`)`);
      const rt = await startRuntime({
        configPath: o.config,
        servers: o.servers,
        name: "jetbus-up",
        durability: durabilityModeOf(o),
        waitForServer: true,
        // a stateful actor without "ordered" is ordered on its state key: the router must know it too
        actorModules: "strict",
      });
      try {
        // the seed's handlers (actors/), for configs that name them in `actors[].handler`
        await registerBuiltinHandlers();
        // listening before anything starts: a SIGTERM while it starts (its workers may already be taking events,
        // e.g. while its notification subscribers are still being set up) stops it gracefully once started,
        // instead of Node's default of dying on the spot with events in flight
        const signalled = untilSignal();
        // a step that times out (a cluster electing leaders) starts it again, logging each attempt
        const services = await startWithRetry(rt.logger, "jetbus up", async () => {
          // before the router starts: on the embedded server it then runs the file's rules, not an older revision
          if (file) {
            const sync = await syncLiveConfig(rt, rt.config, file);
            const message = describeSync(sync, file, rt.servers);
            if (message && sync.kind === "differs") process.stderr.write(message + "\n");
            else if (message) rt.logger.info(message);
          }
          return startServices(rt, { http: o.http !== false, actors: o.watch ? [] : undefined });
        });
        let reloader: ActorReloader | undefined;
        if (o.watch) {
          reloader = await watchActors(rt, file!);
        }
        rt.logger.info(
          {
            servers: rt.servers,
            actors: rt.config.actors.map((a) => a.name),
            ...(rt.config.projections.length ? { projections: rt.config.projections.map((p) => p.name) } : {}),
            watch: o.watch === true,
            http: services.http ? urlOf(services.http, "/metrics") : undefined,
            listen: services.http ? `${services.http.host}:${services.http.port}` : undefined,
            console: services.http && services.console ? urlOf(services.http) : undefined,
          },
          "jetbus is up; Ctrl-C to stop",
        );
        await signalled;
        rt.logger.info("stopping: finishing in-flight events");
        // with the server gone nothing in flight can be acked: do not wait out the grace period
        await stopUnlessUnreachable(rt, async (lost) => {
          await reloader?.stop(undefined, lost);
          await services.stop(undefined, lost);
        });
      } finally {
        await rt.dispose();
      }
    });
}
