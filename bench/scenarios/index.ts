import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import type { StoreSettings } from "../../runtime/config/types.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { BulkPublisher, ensureStore, rebuildIndex } from "../../runtime/store/mod.ts";
import { indexStreamFor } from "../../runtime/topology.ts";
import type { Scenario } from "../harness.ts";

const PER_FLOW = 3;
const data = { user_id: "user-000001", username: "john_doe", email: "john@example.com", note: "x".repeat(256 - 75) };

/** Event i belongs to flow `f-<i mod flows>`: a flow's 3 events lie far apart, like the queries bench. */
async function fill(nc: NatsConnection, n: number): Promise<void> {
  const bulk = new BulkPublisher(nc, { window: 4096, ackTimeoutMs: 20_000 });
  const flows = Math.ceil(n / PER_FLOW);
  for (let base = 0; base < n; base += 10_000) {
    const pending: Promise<unknown>[] = [];
    for (let i = base; i < Math.min(n, base + 10_000); i++) {
      const e = createEvent({ type: "UserCreated", data, id: `ev-${i}`, correlationid: `f-${i % flows}`, source: "bench" });
      pending.push(bulk.publish(encodeEvent(e)));
    }
    await Promise.all(pending);
  }
  await bulk.close();
}

/**
 * The raw client doing the index's work shape for these events (each inside another's flow): one
 * durable over the event stream, consume() + ack, and per event 2 js.publish writes (id,
 * correlation) awaited before the ack.
 */
async function rawRun(nc: NatsConnection, jsm: JetStreamManager, n: number, run: number): Promise<number> {
  await jsm.streams.delete("BENCH_IDX").catch(() => undefined);
  await jsm.streams.add({ name: "BENCH_IDX", subjects: ["benchidx.>"], storage: StorageType.Memory, max_msgs_per_subject: 1 });
  const durable = `raw-index-${run}`;
  await jsm.consumers.add("EVENTS", {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 4096,
  });
  const js = jetstream(nc);
  const consumer = await js.consumers.get("EVENTS", durable);
  const t0 = performance.now();
  const messages = await consumer.consume({ max_messages: 1024 });
  let acked = 0;
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const flows = Math.ceil(n / PER_FLOW);
  void (async () => {
    for await (const m of messages) {
      const seq = m.seq;
      const body = new TextEncoder().encode(JSON.stringify({ seq }));
      // a failed write rejects unhandled and ends the bench run: the raw baseline has no retry
      void Promise.all([js.publish(`benchidx.id.${seq}`, body), js.publish(`benchidx.corr.${(seq - 1) % flows}.${seq}`, body)]).then(() => {
        m.ack();
        if (++acked === n) finished();
      });
    }
  })();
  await done;
  await nc.flush();
  const secs = (performance.now() - t0) / 1000;
  await messages.close();
  await jsm.consumers.delete("EVENTS", durable).catch(() => undefined);
  return n / secs;
}

/** The one-shot path (`jetbus index rebuild`, the CLI's catch-up, the queries bench). */
async function rebuildRun(nc: NatsConnection, jsm: JetStreamManager, store: StoreSettings, n: number): Promise<number> {
  const t0 = performance.now();
  await rebuildIndex(nc, store);
  const secs = (performance.now() - t0) / 1000;
  await check(jsm, store, n);
  return n / secs;
}

/** Every event got an id entry and a correlation entry (none starts its flow), plus the catch-up's position. */
async function check(jsm: JetStreamManager, store: StoreSettings, n: number): Promise<void> {
  const want = n * 2 + 1;
  const got = (await jsm.streams.info(indexStreamFor(store.stream))).state.messages;
  if (got !== want) throw new Error(`index holds ${got} entries, expected ${want}`);
}

const scenario: Scenario = {
  name: "index",
  description:
    "index rebuild (one-shot catch-up) events/s over N pre-filled events (default 100k, 3 per flow) vs raw consume()+ack with 2 js.publish per event (routers index as they route: see the pipeline bench)",
  async run(args) {
    const n = Number(args[0] ?? 100_000);
    const server = await NatsServer.start();
    const nc = await connectNats({ servers: server.url, name: "bench-index" });
    const store = configFrom({ store: { storage: "memory", duplicate_window: "10s" } }).store;
    const log = (line: string) => process.stderr.write(line + "\n");
    try {
      await waitForJetStream(nc);
      const jsm = await jetstreamManager(nc);
      await ensureStore(jsm, store);
      await fill(nc, n);
      log(`filled ${n} events`);
      const raw = await rawRun(nc, jsm, n, 1);
      log(`raw: ${Math.round(raw)} ev/s`);
      const rebuild = await rebuildRun(nc, jsm, store, n);
      log(`rebuild: ${Math.round(rebuild)} ev/s`);
      return [{ metric: `index rebuild (catchUp) of ${n} events`, unit: "ev/s", jetbus: rebuild, raw, higherIsBetter: true }];
    } finally {
      await nc.close().catch(() => undefined);
      await server.stop();
    }
  },
};
export default scenario;
