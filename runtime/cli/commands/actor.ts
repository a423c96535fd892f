import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { parseDuration } from "../../config/duration.ts";
import { UsageError } from "../../errors.ts";
import { startActors } from "../../actor/start.ts";
import { withNotifications } from "../../notify/start.ts";
import { registerBuiltinHandlers } from "../../app/builtin-handlers.ts";
import { DEFAULT_GRACE_MS } from "../../actor/worker.ts";
import { allOptions, durabilityModeOf, withCommonOptions, withStrictOption, type CommonOptions } from "../options.ts";
import { readinessGate } from "../../observability/health.ts";
import { serveObservability, type ObservabilityServer } from "../../observability/http.ts";
import { untilSignal } from "./up.ts";
import { stopUnlessUnreachable } from "../../app/shutdown.ts";
import { startWithRetry } from "../../app/startup-retry.ts";

type ActorOptions = CommonOptions & { replicas?: string; grace?: string; strict?: boolean; http?: boolean };

function positiveInt(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${what} must be a whole number >= 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

function graceOf(v: string | undefined): number {
  if (v === undefined) return DEFAULT_GRACE_MS;
  return parseDuration(v, "--grace");
}

export function registerActor(program: Command): void {
  withStrictOption(withCommonOptions(program.command("actor").argument("<name>", "actor name from the config's actors[]")))
    .description("run N workers of one actor until SIGTERM/SIGINT; any number of such processes share the work")
    .option("-r, --replicas <n>", "workers in this process (default: the actor's replicas setting)")
    .option("--grace <duration>", "on SIGTERM/SIGINT, how long in-flight events may take to finish", "30s")
    .option("--no-http", "do not serve /metrics, /healthz and /readyz on observability.http_port")
    .action(async function (this: Command, name: string) {
      const o = allOptions<ActorOptions>(this);
      const replicas = positiveInt(o.replicas, "--replicas");
      const graceMs = graceOf(o.grace);
      const rt = await startRuntime({
        configPath: o.config,
        servers: o.servers,
        name: `jetbus-actor-${name}`,
        durability: durabilityModeOf(o),
        waitForServer: true,
      });
      const ready = readinessGate(rt.health, "actor");
      let http: ObservabilityServer | undefined;
      try {
        await registerBuiltinHandlers();
        // endpoints first (/readyz answers 503 until the workers run), and the line naming the port
        // before any event is taken: whoever watches the log finds the port before the work starts
        http =
          o.http === false
            ? undefined
            : await serveObservability(rt.metrics, rt.health, rt.config.observability.http_port, rt.config.observability.http_host);
        if (http)
          rt.logger.info(
            { actor: name, http: `:${http.port}`, listen: `${http.host}:${http.port}` },
            "serving /metrics, /healthz and /readyz",
          );
        // listening before anything starts: a SIGTERM while it starts (its workers may already be taking events,
        // e.g. while its notification subscribers are still being set up) stops it gracefully once started,
        // instead of Node's default of dying on the spot with events in flight
        const signalled = untilSignal();
        // a step that times out (a cluster electing leaders) starts it again, logging each attempt
        const running = await withNotifications(
          rt,
          await startWithRetry(rt.logger, `jetbus actor ${name}`, () => startActors(rt, [name], { replicas })),
          [name],
          { replicas },
        );
        ready.open();
        rt.logger.info(
          { actor: name, workers: running.workers.length, http: http ? `:${http.port}` : undefined },
          "actor running; SIGTERM or Ctrl-C stops it gracefully",
        );
        const sig = await signalled;
        rt.logger.info({ signal: sig, graceMs, natsConnected: rt.connection.connected }, "stopping: finishing in-flight events");
        ready.close();
        // with the server gone nothing in flight can be acked: waiting out the grace period would only delay the exit
        const r = await stopUnlessUnreachable(rt, (lost) => running.stop(graceMs, lost));
        if (!r.finished) rt.logger.warn({ abandoned: r.abandoned }, "stopped with unfinished events (they will be redelivered)");
      } finally {
        await http?.close();
        await rt.dispose();
      }
    });
}
