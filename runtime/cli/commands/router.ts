import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { toMillis } from "../../config/duration.ts";
import { UsageError } from "../../errors.ts";
import { startRouter, type RouterHandle } from "../../routing/router.ts";
import { allOptions, withCommonOptions, type CommonOptions } from "../options.ts";
import { untilSignal } from "./up.ts";

type RouterCliOptions = CommonOptions & { replicas: string; maxInFlight: string; ackWait?: string };

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number >= 1, got ${JSON.stringify(v)}`);
  return n;
}

function duration(name: string, v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  if (!/^\d+(ms|s|m|h|d)$/.test(v)) throw new UsageError(`${name} must be a duration such as 500ms or 30s, got ${JSON.stringify(v)}`);
  return toMillis(v);
}

export function registerRouter(program: Command): void {
  withCommonOptions(program.command("router"))
    .description("run router replicas (competing on durable jetbus-router) until SIGTERM/SIGINT, then drain")
    .option("--replicas <n>", "router replicas in this process", "1")
    .option("--max-in-flight <n>", "events routed at once per replica", "512")
    .option("--ack-wait <duration>", "ack_wait of the jetbus-router durable if this process creates it (e.g. 30s)")
    .action(async function (this: Command) {
      const o = allOptions<RouterCliOptions>(this);
      const replicas = positive("--replicas", o.replicas);
      const maxInFlight = positive("--max-in-flight", o.maxInFlight);
      const ackWaitMs = o.ackWait === undefined ? undefined : duration("--ack-wait", o.ackWait);
      const rt = await startRuntime({ configPath: o.config, servers: o.servers, name: "jetbus-router" });
      const routers: RouterHandle[] = [];
      try {
        if (replicas > 1 && rt.config.actors.some((a) => a.ordered)) {
          rt.logger.warn("ordered actors and several router replicas: per-key order is only kept within one replica (see the router docs)");
        }
        for (let i = 0; i < replicas; i++) routers.push(await startRouter(rt, { maxInFlight, ackWaitMs }));
        const line = { replicas: routers.map((r) => r.replicaId), revision: routers[0]!.revision };
        process.stdout.write((o.json ? JSON.stringify({ started: line }) : `router running: ${routers.length} replica(s), config revision ${line.revision}`) + "\n");
        await untilSignal();
      } finally {
        await Promise.all(routers.map((r) => r.stop()));
        await rt.dispose();
      }
    });
}
