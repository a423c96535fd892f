import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager, AckPolicy, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { startRuntime } from "../../runtime/app/bootstrap.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { registerHandler } from "../../runtime/actor/registry.ts";
import { startActors } from "../../runtime/actor/start.ts";
import type { Event } from "../../runtime/events/types.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";
import { startRouter } from "../../runtime/routing/router.ts";
import { percentile, type Comparison, type Scenario } from "../harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Spawns a helper process and resolves once it prints `ready`; stop() sends SIGTERM and waits for the exit. */
async function helperProcess(args: string[], ready: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes(ready)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
  return {
    stop: async () => {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    },
  };
}

/**
 * The router runs as its own process, as deployed (`jetbus router`, its indexer off: this measures
 * routing, and the indexer is a separate consumer of the store): the bench process only
 * publishes and consumes, exactly what the raw side does, so both sides pay the same client work.
 */
function routerProcess(url: string, config: unknown): Promise<{ stop(): Promise<void> }> {
  const file = join(mkdtempSync(join(tmpdir(), "jetbus-latency-")), "jetbus.config.json");
  writeFileSync(file, JSON.stringify(config));
  return helperProcess(["bin/jetbus.js", "router", "--servers", url, "--config", file, "--no-indexer", "--no-http"], "router running");
}

/** Handler latencies (ms) of the current run: the probe compares its clock with the publish time in the data. */
let samples: number[] = [];

class LatencyProbe {
  async handle(event: Event): Promise<void> {
    samples.push(performance.now() - (event.data as { t: number }).t);
  }
}
registerHandler("latency-probe", LatencyProbe);

/** Publishes at `rate` events/s for `seconds`, in 5 ms ticks, through the pipelined publisher. */
async function paced(
  nc: NatsConnection,
  rate: number,
  seconds: number,
  make: (i: number) => { subject: string; data: Uint8Array; headers?: ReturnType<typeof encodeEvent>["headers"] },
): Promise<void> {
  const pub = new BulkPublisher(nc);
  const perTick = Math.max(1, Math.round((rate * 5) / 1000));
  const total = rate * seconds;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + perTick);
    while (sent < due) void pub.publish(make(sent++));
    await new Promise((r) => setTimeout(r, 5));
  }
  await pub.close();
}

function summary(xs: number[], warmup: number): { p50: number; p99: number; n: number } {
  if (process.env.LATENCY_TRACE) {
    const per = Math.max(1, Math.floor(xs.length / 12));
    const medians = [];
    for (let i = 0; i < xs.length; i += per) {
      const slice = xs.slice(i, i + per).sort((a, b) => a - b);
      medians.push(`${percentile(slice, 50).toFixed(1)}/${percentile(slice, 99).toFixed(0)}`);
    }
    process.stderr.write(`p50/p99 per slice: ${medians.join(" ")}\n`);
  }
  const kept = xs.slice(warmup).sort((a, b) => a - b);
  return { p50: percentile(kept, 50), p99: percentile(kept, 99), n: kept.length };
}

async function waitForConsumer(nc: NatsConnection, durable: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (;;) {
    if (
      await jsm.consumers.info(Streams.Inbox, durable).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Raw publish -> consume, or with `relayed`, publish -> a raw consume-and-republish process
 * (bench/processes/raw-relay.ts) -> consume: the same two hops and three processes as the router path.
 */
async function rawRun(rate: number, seconds: number, relayed = false): Promise<number[]> {
  const server = await NatsServer.start({ serverName: "latency-raw" });
  const nc = await connectNats({ servers: server.url });
  const lat: number[] = [];
  let relay: { stop(): Promise<void> } | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "RAW", subjects: ["raw.>"], storage: StorageType.File });
    const read = relayed ? "RELAYED" : "RAW";
    if (relayed) {
      await jsm.streams.add({ name: read, subjects: ["relayed.>"], storage: StorageType.File });
      relay = await helperProcess(["--import", "tsx", "bench/processes/raw-relay.ts", server.url], "relay running");
    }
    await jsm.consumers.add(read, { durable_name: "raw", ack_policy: AckPolicy.Explicit });
    const messages = await (await jetstream(nc).consumers.get(read, "raw")).consume();
    const loop = (async () => {
      for await (const m of messages) {
        lat.push(performance.now() - (JSON.parse(new TextDecoder().decode(m.data)) as { t: number }).t);
        m.ack();
      }
    })();
    await paced(nc, rate, seconds, (i) => ({
      subject: "raw.UserCreated",
      data: new TextEncoder().encode(JSON.stringify({ i, t: performance.now() })),
    }));
    while (lat.length < rate * seconds) await new Promise((r) => setTimeout(r, 20));
    messages.stop();
    await loop;
  } finally {
    await relay?.stop();
    await nc.close();
    await server.stop();
  }
  return lat;
}

/** publish -> router -> a plain consumer on the actor's inbox: the router's share of the latency alone. */
async function routerOnlyRun(rate: number, seconds: number): Promise<number[]> {
  const server = await NatsServer.start({ serverName: "latency-router" });
  const doc = {
    actors: [{ name: "probe" }],
    routes: { rules: [{ name: "all-users", match: { type: "User*" }, to: ["probe"] }] },
    observability: { log_level: "warn" },
  };
  const rt = await startRuntime({
    config: configFrom(structuredClone(doc)),
    servers: server.url,
    logger: createLogger({ level: "warn", pretty: false }),
  });
  const lat: number[] = [];
  try {
    const router = process.env.LATENCY_INPROC ? await startRouter(rt) : await routerProcess(server.url, doc);
    await waitForConsumer(rt.nc, Consumers.actor("probe"));
    // the actor's own durable (created by the router's ensureInbox), read by a plain consumer
    const messages = await (await jetstream(rt.nc).consumers.get(Streams.Inbox, Consumers.actor("probe"))).consume();
    const loop = (async () => {
      for await (const m of messages) {
        lat.push(performance.now() - (JSON.parse(new TextDecoder().decode(m.data)) as { t: number }).t);
        m.ack();
      }
    })();
    await paced(rt.nc, rate, seconds, (i) =>
      encodeEvent(createEvent({ type: "UserCreated", source: "bench", data: { user_id: `u${i}`, i, t: performance.now() } })),
    );
    while (lat.length < rate * seconds) await new Promise((r) => setTimeout(r, 20));
    messages.stop();
    await loop;
    await router.stop();
  } finally {
    await rt.dispose();
    await server.stop();
  }
  return lat;
}

async function jetbusRun(rate: number, seconds: number): Promise<number[]> {
  const server = await NatsServer.start({ serverName: "latency-jetbus" });
  const doc = {
    actors: [
      {
        name: "probe",
        handler: "latency-probe",
        concurrency: 64,
        ...(process.env.LATENCY_NO_MARKERS ? { idempotency: { enabled: false } } : {}),
      },
    ],
    routes: { rules: [{ name: "all-users", match: { type: "User*" }, to: ["probe"] }] },
    observability: { log_level: "warn" },
  };
  const rt = await startRuntime({
    config: configFrom(structuredClone(doc)),
    servers: server.url,
    logger: createLogger({ level: "warn", pretty: false }),
  });
  samples = [];
  try {
    const router = process.env.LATENCY_INPROC ? await startRouter(rt) : await routerProcess(server.url, doc);
    const actors = await startActors(rt);
    await paced(rt.nc, rate, seconds, (i) =>
      encodeEvent(createEvent({ type: "UserCreated", source: "bench", data: { user_id: `u${i}`, i, t: performance.now() } })),
    );
    while (samples.length < rate * seconds) await new Promise((r) => setTimeout(r, 20));
    await actors.stop();
    await router.stop();
    return samples;
  } finally {
    await rt.dispose();
    await server.stop();
  }
}

const scenario: Scenario = {
  name: "latency",
  description:
    "publish -> router (own process) -> actor handler at a fixed rate vs raw publish -> consume, and vs a raw relay process over the same two hops (p50/p99, same run)",
  async run(args) {
    const rate = Number(args[0] ?? 5000);
    const seconds = Number(args[1] ?? 6);
    // samples of the first seconds are dropped: connections, consumers and the JIT warm up
    // (a freshly spawned router process needs a few seconds before it runs at full speed)
    const warmupSeconds = Number(process.env.LATENCY_WARMUP_S ?? 3);
    const warmup = rate * warmupSeconds;
    const only = args[2]; // "router": skip the actor run; "actor": skip the router-only run
    const raw = summary(await rawRun(rate, seconds + warmupSeconds), warmup);
    // the raw client over the same topology as the router path: two stream hops, a relay process between
    const viaRelay = summary(await rawRun(rate, seconds + warmupSeconds, true), warmup);
    const rows: Comparison[] = [];
    if (only !== "actor") {
      const viaRouter = summary(await routerOnlyRun(rate, seconds + warmupSeconds), warmup);
      rows.push(
        {
          metric: `p50 publish->router->inbox consumer @ ${rate}/s`,
          unit: "ms",
          jetbus: viaRouter.p50,
          raw: raw.p50,
          higherIsBetter: false,
        },
        {
          metric: `p99 publish->router->inbox consumer @ ${rate}/s`,
          unit: "ms",
          jetbus: viaRouter.p99,
          raw: raw.p99,
          higherIsBetter: false,
          target: "<= 3x",
        },
        {
          metric: `p50 router hop vs raw relay hop @ ${rate}/s`,
          unit: "ms",
          jetbus: viaRouter.p50,
          raw: viaRelay.p50,
          higherIsBetter: false,
        },
        {
          metric: `p99 router hop vs raw relay hop @ ${rate}/s`,
          unit: "ms",
          jetbus: viaRouter.p99,
          raw: viaRelay.p99,
          higherIsBetter: false,
        },
      );
    }
    if (only !== "router") {
      const jet = summary(await jetbusRun(rate, seconds + warmupSeconds), warmup);
      rows.push(
        { metric: `p50 publish->router->actor handler @ ${rate}/s`, unit: "ms", jetbus: jet.p50, raw: raw.p50, higherIsBetter: false },
        {
          metric: `p99 publish->router->actor handler @ ${rate}/s`,
          unit: "ms",
          jetbus: jet.p99,
          raw: raw.p99,
          higherIsBetter: false,
          target: "<= 3x",
        },
        { metric: `p50 actor handler vs raw relay hop @ ${rate}/s`, unit: "ms", jetbus: jet.p50, raw: viaRelay.p50, higherIsBetter: false },
        { metric: `p99 actor handler vs raw relay hop @ ${rate}/s`, unit: "ms", jetbus: jet.p99, raw: viaRelay.p99, higherIsBetter: false },
      );
    }
    return rows;
  },
};
export default scenario;
