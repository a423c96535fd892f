import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { startRuntime } from "../../runtime/app/bootstrap.ts";
import { startServices } from "../../runtime/app/services.ts";
import { registerBuiltinHandlers } from "../../runtime/app/builtin-handlers.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createLogger } from "../../runtime/log.ts";
import { connectNats, retryTransient, waitForJetStream } from "../../runtime/nats/connect.ts";
import { NatsCluster, NatsServer } from "../../runtime/nats/server.ts";
import { EventBus } from "../../runtime/store/mod.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Streams } from "../../runtime/topology.ts";
import { waitForR3Placement } from "../cluster-ready.ts";
import type { Comparison, Scenario } from "../harness.ts";

const data = { user_id: "user1", username: "john_doe", email: "john@example.com" };

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

/** Store -> router -> no-op actor, all in this process: events/s from first publish to last handled. */
async function jetbusPass(servers: string[], replicas: 1 | 3, n: number, markers: boolean): Promise<number> {
  const doc = {
    store: { replicas },
    actors: [{ name: "sink", handler: "noop", idempotency: { enabled: markers } }],
    routes: { rules: [{ name: "all", match: { type: "Bench*" }, to: ["sink"] }] },
    observability: { log_level: "warn" },
  };
  const rt = await startRuntime({
    config: configFrom(doc),
    servers: servers.join(","),
    logger: createLogger({ level: "warn", pretty: false }),
  });
  // the seed's handlers (actors/) that the config names; startServices registers none
  await registerBuiltinHandlers();
  const services = await startServices(rt, { indexer: false, http: false });
  try {
    const jsm = await jetstreamManager(rt.nc);
    const bus = new EventBus(rt.nc, { source: "bench" });
    const start = performance.now();
    await Promise.all(Array.from({ length: n }, () => bus.publish("BenchHappened", data)));
    await bus.close();
    await until(
      async () =>
        (await jsm.consumers.info(Streams.Inbox, "sink")).delivered.stream_seq >= n &&
        (await jsm.streams.info(Streams.Inbox)).state.messages === 0,
    );
    return n / ((performance.now() - start) / 1000);
  } finally {
    await services.stop();
    await rt.dispose();
  }
}

/** The same pipeline with the raw client: publish, consume + republish to a work queue, consume + ack. */
async function rawPass(nc: NatsConnection, jsm: JetStreamManager, replicas: 1 | 3, n: number): Promise<number> {
  await retryTransient(() => jsm.streams.add({ name: "RAWSTORE", subjects: ["rawstore.>"], num_replicas: replicas }));
  await retryTransient(() =>
    jsm.streams.add({ name: "RAWQUEUE", subjects: ["rawqueue.>"], num_replicas: replicas, retention: RetentionPolicy.Workqueue }),
  );
  await jsm.consumers.add("RAWSTORE", { durable_name: "route", ack_policy: AckPolicy.Explicit, max_ack_pending: 4096 });
  await jsm.consumers.add("RAWQUEUE", { durable_name: "sink", ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
  const js = jetstream(nc);
  const body = new TextEncoder().encode(JSON.stringify(data));
  const pub = new BulkPublisher(nc);
  const route = await (await js.consumers.get("RAWSTORE", "route")).consume();
  const sink = await (await js.consumers.get("RAWQUEUE", "sink")).consume();
  let handled = 0;
  const routing = (async () => {
    for await (const m of route) void pub.publish({ subject: "rawqueue.sink", data: m.data }).then(() => m.ack());
  })();
  const sinking = (async () => {
    for await (const m of sink) {
      JSON.parse(new TextDecoder().decode(m.data));
      m.ack();
      handled++;
    }
  })();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) => pub.publish({ subject: "rawstore.BenchHappened", data: body, headers: undefined }).then(() => i)),
  );
  await until(async () => handled >= n);
  const rate = n / ((performance.now() - start) / 1000);
  route.stop();
  sink.stop();
  await Promise.all([routing, sinking]);
  await pub.close();
  return rate;
}

async function onSingleNode(fn: (servers: string[], nc: NatsConnection) => Promise<number>): Promise<number> {
  const server = await NatsServer.start();
  const nc = await connectNats({ servers: server.url });
  try {
    await waitForJetStream(nc);
    return await fn([server.url], nc);
  } finally {
    await nc.close();
    await server.stop();
  }
}

async function onCluster(fn: (servers: string[], nc: NatsConnection) => Promise<number>): Promise<number> {
  const cluster = await NatsCluster.start(3);
  const nc = await connectNats({ servers: cluster.urls });
  try {
    await waitForJetStream(nc, 60_000);
    await waitForR3Placement(nc);
    return await fn(cluster.urls, nc);
  } finally {
    await nc.close();
    await cluster.stop();
  }
}

/**
 * End-to-end throughput (publish -> store -> router -> inbox -> actor) on an R1 single node and an
 * R3 3-node cluster, jetbus vs the raw client doing the same hops; each pass on a fresh server.
 */
const scenario: Scenario = {
  name: "cluster-e2e",
  description: "end-to-end events/s publish -> store -> router -> actor, R1 single node vs R3 3-node cluster, jetbus vs raw pipeline",
  async run(args) {
    const n = Number(args[0] ?? 10_000);
    const raw1 = await onSingleNode(async (_s, nc) => rawPass(nc, await jetstreamManager(nc), 1, n));
    const jb1 = await onSingleNode((s) => jetbusPass(s, 1, n, true));
    const jb1Bare = await onSingleNode((s) => jetbusPass(s, 1, n, false));
    const raw3 = await onCluster(async (_s, nc) => rawPass(nc, await jetstreamManager(nc), 3, n));
    const jb3 = await onCluster((s) => jetbusPass(s, 3, n, true));
    const jb3Bare = await onCluster((s) => jetbusPass(s, 3, n, false));
    process.stderr.write(`R3/R1 end-to-end: jetbus ${(jb3 / jb1).toFixed(2)}x, raw ${(raw3 / raw1).toFixed(2)}x (${n} events per pass)\n`);
    return [
      { metric: "end-to-end R1 single node", unit: "events/s", jetbus: jb1, raw: raw1, higherIsBetter: true },
      { metric: "end-to-end R1, actor without markers", unit: "events/s", jetbus: jb1Bare, raw: raw1, higherIsBetter: true },
      { metric: "end-to-end R3 3-node cluster", unit: "events/s", jetbus: jb3, raw: raw3, higherIsBetter: true },
      { metric: "end-to-end R3, actor without markers", unit: "events/s", jetbus: jb3Bare, raw: raw3, higherIsBetter: true },
    ] satisfies Comparison[];
  },
};
export default scenario;
