import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { parseDuration } from "../../config/duration.ts";
import { UsageError } from "../../errors.ts";
import { startRouter, type RouterHandle } from "../../routing/router.ts";
import { urlOf } from "../../observability/http.ts";
import { allOptions, durabilityModeOf, withCommonOptions, withStrictOption, type CommonOptions } from "../options.ts";
import { readinessGate } from "../../observability/health.ts";
import type { ObservabilityServer } from "../../observability/http.ts";
import { untilSignal } from "./up.ts";
import { serveHttpWithConsole } from "../../app/console.ts";
import { stopUnlessUnreachable } from "../../app/shutdown.ts";
import type { TimerRelay } from "../../actor/state/timer-relay.ts";
import { startTimerRelay } from "../../app/timer-relay.ts";
import { startWithRetry } from "../../app/startup-retry.ts";

type RouterCliOptions = CommonOptions & {
  replicas: string;
  maxInFlight: string;
  ackWait?: string;
  strict?: boolean;
  indexer?: boolean;
  http?: boolean;
};

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number >= 1, got ${JSON.stringify(v)}`);
  return n;
}

export function registerRouter(program: Command): void {
  withStrictOption(withCommonOptions(program.command("router")))
    .description(
      "run router replicas (competing on durable jetbus-router; on jetbus-router-ordered, the one the server pins) until SIGTERM/SIGINT, then drain",
    )
    .option("-r, --replicas <n>", "router replicas in this process", "1")
    .option("--max-in-flight <n>", "events routed at once per replica", "512")
    .option("--ack-wait <duration>", "ack_wait of the router durables if this process creates them (e.g. 30s)")
    .option(
      "--no-indexer",
      "do not write the store's id and correlation indexes (by default the router writes them as it routes each event); every inbox copy then says a duplicate is possible",
    )
    .option("--no-http", "do not serve /metrics, /healthz, /readyz and the console on observability.http_port")
    .action(async function (this: Command) {
      const o = allOptions<RouterCliOptions>(this);
      const replicas = positive("--replicas", o.replicas);
      const maxInFlight = positive("--max-in-flight", o.maxInFlight);
      const ackWaitMs = o.ackWait === undefined ? undefined : parseDuration(o.ackWait, "--ack-wait");
      const rt = await startRuntime({
        configPath: o.config,
        servers: o.servers,
        name: "jetbus-router",
        durability: durabilityModeOf(o),
        waitForServer: true,
        // a stateful actor without "ordered" is ordered on its state key: its copies go to its partitions
        actorModules: "lenient",
      });
      const routers: RouterHandle[] = [];
      let relay: TimerRelay | undefined;
      let http: ObservabilityServer | undefined;
      let ui: Awaited<ReturnType<typeof serveHttpWithConsole>>["ui"];
      const ready = readinessGate(rt.health, "router");
      /** One attempt: every replica and the timer relay, or (on failure) none of them. */
      const startAll = async () => {
        const started: RouterHandle[] = [];
        let r: TimerRelay | undefined;
        // the id and correlation indexes are written on the router's own delivery of each event
        const index = o.indexer !== false;
        try {
          for (let i = 0; i < replicas; i++) started.push(await startRouter(rt, { maxInFlight, ackWaitMs, index }));
          // fired timers of stateful actors become events in a router process (docs/concepts/state.md)
          r = await startTimerRelay(rt);
        } catch (err) {
          await r?.stop().catch(() => undefined);
          await Promise.all(started.map((x) => x.stop().catch(() => undefined)));
          throw err;
        }
        routers.push(...started);
        relay = r;
      };
      try {
        // listening before anything starts: a SIGTERM while it starts (its workers may already be taking events,
        // e.g. while its notification subscribers are still being set up) stops it gracefully once started,
        // instead of Node's default of dying on the spot with events in flight
        const signalled = untilSignal();
        // a step that times out (a cluster electing leaders) starts it again, logging each attempt
        await startWithRetry(rt.logger, "jetbus router", startAll);
        ready.open();
        if (o.http !== false) {
          ({ http, ui } = await serveHttpWithConsole(rt));
        }
        const line = {
          replicas: routers.map((r) => r.replicaId),
          revision: routers[0]!.revision,
          indexer: o.indexer !== false,
          http: http?.port,
          listen: http ? `${http.host}:${http.port}` : undefined,
          console: http && ui ? urlOf(http) : undefined,
        };
        process.stdout.write(
          (o.json ? JSON.stringify({ started: line }) : `router running: ${routers.length} replica(s), config revision ${line.revision}`) +
            "\n",
        );
        const signal = await signalled;
        rt.logger.info({ signal, natsConnected: rt.connection.connected }, "stopping: finishing in-flight events");
      } finally {
        ready.close();
        await stopUnlessUnreachable(rt, async (lost) => {
          await relay?.stop(lost);
          await Promise.all(routers.map((r) => r.stop(lost)));
        });
        ui?.close();
        await http?.close();
        await rt.dispose();
      }
    });
}
