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
    await indexer.start();
    for (let i = 0; i < 3; i++) await bus.publish("UserCreated", { user_id: `u${i}` }, { id: `old-${i}`, correlationId: "short-lived" });
    const reads = new EventStore(nc);
    await waitFor(async () => (await reads.getByCorrelationId("short-lived")).length === 3, "the flow to be indexed", 30_000);
    await waitFor(async () => (await reads.findById("old-2")) === undefined, "the newest old event to expire", 30_000);
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
    await waitFor(async () => (await reads.getByCorrelationId("short-lived")).length === 1, "the new event to be indexed", 30_000);
    assert.equal(
      (await reads.getByCorrelationId("short-lived")).map((e) => e.event.id),
      ["new-0"],
    );
  } finally {
    await indexer.stop();
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
    assert.is(status.indexEntries, 80, "40 id entries, 40 correlation entries");
    assert.ok(progress.length > 0);
    assert.equal(progress[progress.length - 1], { done: 40, total: 40 });
    assert.is((await reads.getById("r-17")).seq, 18);
    assert.equal(
      (await reads.getByCorrelationId("flow-1")).map((e) => e.event.id),
      Array.from({ length: 10 }, (_, k) => `r-${4 * k + 1}`),
    );
    const again = await rebuildIndex(nc, store);
    assert.is(again.indexEntries, 80);
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
    await first.start();
    for (let i = 0; i < 10; i++) await bus.publish("UserCreated", { user_id: `u${i}` }, { id: `p-${i}`, correlationId: "long-flow" });
    await waitFor(async () => (await first.lag()) === 0, "first indexer to catch up", 30_000);
    await first.stop(); // the runtime goes down
    await server.kill(); // and the server crashes
    await server.restart();
    // producers keep going while the runtime is down (the bus resends through the reconnect)
    for (let i = 10; i < 20; i++) await bus.publish("UserCreated", { user_id: `u${i}` }, { id: `p-${i}`, correlationId: "long-flow" });
    const second = new Indexer(nc, store); // a fresh runtime: the durable remembers the position
    await waitFor(
      async () => {
        await second.start();
        return true;
      },
      "the indexer to start after the restart",
      30_000,
    );
    try {
      await waitFor(
        async () => (await second.lag()) === 0 && (await second.status()).indexedThrough === 20,
        "second indexer to catch up",
        30_000,
      );
      const reads = new EventStore(nc);
      for (let i = 0; i < 20; i++) assert.is((await reads.getById(`p-${i}`)).seq, i + 1);
      assert.equal(
        (await reads.getByCorrelationId("long-flow")).map((e) => e.seq),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const after = await bus.publish("UserCreated", { user_id: "late" }, { id: "p-late", correlationId: "long-flow" });
      await waitFor(
        async () => (await reads.findById("p-late"))?.seq === after.seq,
        "an event published after the restart to be indexed",
        30_000,
      );
      assert.is((await reads.getByCorrelationId("long-flow")).length, 21);
    } finally {
      await second.stop();
    }
  } finally {
    await bus.close();
    await stop();
  }
});

test.run();
