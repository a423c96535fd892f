import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { NotFoundError } from "../../runtime/errors.ts";
import { EventBus, EventStore, Indexer, ensureStore, rebuildIndex, type RebuildProgress } from "../../runtime/store/mod.ts";
import { Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

test("retention: after max_age the events vanish from every query and the index holds no dangling entries", async () => {
  const { nc, stop } = await startServer();
  const store = configFrom({ store: { max_age: "1s", storage: "memory" } }).store;
  const bus = new EventBus(nc);
  const indexer = new Indexer(nc, store);
  try {
    const jsm = await jetstreamManager(nc);
    const { events } = await ensureStore(jsm, store);
    assert.is(events.config.duplicate_window, 1e9, "the duplicate window is capped at max_age");
    for (let i = 0; i < 3; i++) await bus.publish("UserCreated", { user_id: `u${i}` }, { id: `old-${i}`, correlationId: "short-lived" });
    const reads = new EventStore(nc);
    // no router runs: a one-shot catch-up indexes what is stored
    await indexer.catchUp();
    assert.is((await reads.getByCorrelationId("short-lived")).length, 3);
    // wait on the event stream itself: each stream expires on its own server timer, so under load the index's
    // id entry for old-2 can go first (findById is then undefined) while old-1 and old-2 are still held
    await waitFor(async () => (await jsm.streams.info(events.config.name)).state.messages === 0, "the old events to expire", 30_000);
    assert.is(await reads.findById("old-2"), undefined);
    assert.instance(await reads.getById("old-0").catch((e) => e), NotFoundError);
    assert.equal(await reads.getByCorrelationId("short-lived"), []);
    assert.equal(await reads.getByType("UserCreated"), []);
    await waitFor(
      async () => (await jsm.streams.info(Streams.Index)).state.messages === 0,
      "index entries to expire with their events",
      30_000,
    );
    // the flow goes on after its first events expired: only what is still held is served
    await bus.publish("UserUpdated", { user_id: "u0" }, { id: "new-0", correlationId: "short-lived" });
    await indexer.catchUp();
    assert.equal(
      (await reads.getByCorrelationId("short-lived")).map((e) => e.event.id),
      ["new-0"],
    );
  } finally {
    await bus.close();
    await stop();
  }
});

test("rebuildIndex re-creates both indexes from the stream with progress, and rebuilding twice duplicates nothing", async () => {
  const { nc, stop } = await startServer();
  const store = configFrom({}).store;
  const bus = new EventBus(nc);
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStore(jsm, store);
    const results = await bus.publishMany(
      Array.from({ length: 40 }, (_, i) => ({
        type: "UserCreated",
        data: { user_id: `u${i}` },
        id: `r-${i}`,
        correlationId: `flow-${i % 4}`,
      })),
    );
    assert.ok(results.every((r) => r.status === "fulfilled"));
    // nothing indexed yet (no indexer ran): lookups miss, they do not scan
    const reads = new EventStore(nc);
    assert.is(await reads.findById("r-0"), undefined);
    const progress: RebuildProgress[] = [];
    const status = await rebuildIndex(nc, store, { onProgress: (p) => progress.push(p) });
    assert.is(status.indexedThrough, 40);
    assert.is(status.indexEntries, 81, "40 id entries, 40 correlation entries (none of the events starts its flow), the position");
    assert.ok(progress.length > 0);
    assert.equal(progress[progress.length - 1], { done: 40, total: 40 });
    assert.is((await reads.getById("r-17")).seq, 18);
    assert.equal(
      (await reads.getByCorrelationId("flow-1")).map((e) => e.event.id),
      Array.from({ length: 10 }, (_, k) => `r-${4 * k + 1}`),
    );
    const again = await rebuildIndex(nc, store);
    assert.is(again.indexEntries, 81);
    assert.is((await reads.getByCorrelationId("flow-2")).length, 10);
  } finally {
    await bus.close();
    await stop();
  }
});

test("a restart of the server and of the runtime loses nothing: acked events stay, indexing resumes where it stopped", async () => {
  const { server, nc, stop } = await startServer();
  const store = configFrom({}).store;
  const bus = new EventBus(nc);
  try {
    await ensureStore(await jetstreamManager(nc), store);
    const first = new Indexer(nc, store);
    for (let i = 0; i < 10; i++) await bus.publish("UserCreated", { user_id: `u${i}` }, { id: `p-${i}`, correlationId: "long-flow" });
    assert.is((await first.catchUp()).indexedThrough, 10);
    assert.is(await first.lag(), 0);
    await server.kill(); // the server crashes
    await server.restart();
    // producers keep going while the runtime is down (the bus resends through the reconnect)
    for (let i = 10; i < 20; i++) await bus.publish("UserCreated", { user_id: `u${i}` }, { id: `p-${i}`, correlationId: "long-flow" });
    const second = new Indexer(nc, store); // a fresh runtime: the index remembers how far it got
    await waitFor(async () => (await second.status()).indexedThrough === 10, "the remembered position after the restart", 30_000);
    assert.is(await second.lag(), 10);
    assert.is((await second.catchUp()).indexedThrough, 20);
    const reads = new EventStore(nc);
    for (let i = 0; i < 20; i++) assert.is((await reads.getById(`p-${i}`)).seq, i + 1);
    assert.equal(
      (await reads.getByCorrelationId("long-flow")).map((e) => e.seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const after = await bus.publish("UserCreated", { user_id: "late" }, { id: "p-late", correlationId: "long-flow" });
    await second.catchUp();
    assert.is((await reads.findById("p-late"))?.seq, after.seq);
    assert.is((await reads.getByCorrelationId("long-flow")).length, 21);
  } finally {
    await bus.close();
    await stop();
  }
});

test.run();
