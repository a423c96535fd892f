import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { connectNats, retryTransient, waitForJetStream } from "../../runtime/nats/connect.ts";
import { NatsCluster, NatsServer } from "../../runtime/nats/server.ts";
import { EventBus } from "../../runtime/store/mod.ts";
import { ensureEventStream } from "../../runtime/store/stream.ts";
import { waitForR3Placement } from "../cluster-ready.ts";
import type { Comparison, Scenario } from "../harness.ts";

const WINDOW = 256;
const data = { user_id: "user1", username: "john_doe", email: "john@example.com", tags: ["a", "b", "c"], score: 42 };

/** Runs `send(i)` for i < n with at most `window` in flight; returns messages per second. */
async function windowed(n: number, window: number, send: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await send(next++);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function measure(nc: NatsConnection, replicas: 1 | 3, n: number): Promise<{ jetbus: number; raw: number }> {
  const jsm = await jetstreamManager(nc);
  const store = configFrom({ store: { replicas } }).store;
  await retryTransient(() => ensureEventStream(jsm, store));
  await retryTransient(() =>
    jsm.streams.add({ name: "RAWINGEST", subjects: ["raw.>"], num_replicas: replicas, duplicate_window: 120_000_000_000 }),
  );
  const js: JetStreamClient = jetstream(nc);
  const body = new TextEncoder().encode(JSON.stringify(data));
  // warm both paths (connections, stream leaders, JIT)
  const bus = new EventBus(nc, { window: WINDOW, source: "bench" });
  await windowed(500, WINDOW, () => bus.publish("BenchIngested", data));
  await windowed(500, WINDOW, (i) => js.publish("raw.BenchIngested", body, { msgID: `warm-${i}` }));
  // alternate, so neither side always runs on a warmer (or more fragmented) store
  const raw1 = await windowed(n, WINDOW, (i) => js.publish("raw.BenchIngested", body, { msgID: `a-${i}` }));
  const jb1 = await windowed(n, WINDOW, () => bus.publish("BenchIngested", data));
  const jb2 = await windowed(n, WINDOW, () => bus.publish("BenchIngested", data));
  const raw2 = await windowed(n, WINDOW, (i) => js.publish("raw.BenchIngested", body, { msgID: `b-${i}` }));
  await bus.close();
  return { jetbus: (jb1 + jb2) / 2, raw: (raw1 + raw2) / 2 };
}

/**
 * Ingest into an R3 stream on a 3-node loopback cluster vs an R1 stream on a single node, same
 * run: jetbus EventBus (CloudEvent build + binary encode, pipelined, window 256) and the raw
 * client's js.publish with the same window and Nats-Msg-Id.
 */
const scenario: Scenario = {
  name: "cluster-ingest",
  description: "events/s into R3 (3-node cluster) vs R1 (single node): jetbus EventBus vs raw js.publish, window 256",
  async run(args) {
    const n = Number(args[0] ?? 10_000);
    const single = await NatsServer.start();
    let r1: { jetbus: number; raw: number };
    try {
      const nc = await connectNats({ servers: single.url });
      await waitForJetStream(nc);
      r1 = await measure(nc, 1, n);
      await nc.close();
    } finally {
      await single.stop();
    }
    const cluster = await NatsCluster.start(3);
    let r3: { jetbus: number; raw: number };
    try {
      const nc = await connectNats({ servers: cluster.urls });
      await waitForJetStream(nc, 60_000);
      await waitForR3Placement(nc);
      r3 = await measure(nc, 3, n);
      await nc.close();
    } finally {
      await cluster.stop();
    }
    process.stderr.write(
      `R3/R1 throughput: jetbus ${(r3.jetbus / r1.jetbus).toFixed(2)}x, raw ${(r3.raw / r1.raw).toFixed(2)}x (${n} events per pass, 2 passes each)\n`,
    );
    const rows: Comparison[] = [
      { metric: "ingest R1 single node", unit: "events/s", jetbus: r1.jetbus, raw: r1.raw, higherIsBetter: true },
      { metric: "ingest R3 3-node cluster", unit: "events/s", jetbus: r3.jetbus, raw: r3.raw, higherIsBetter: true },
    ];
    return rows;
  },
};
export default scenario;
