import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { tokenFor } from "../../runtime/events/subjects.ts";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { NotFoundError } from "../../runtime/errors.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { EventBus, EventStore, Indexer, ensureStore } from "../../runtime/store/mod.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const enc = new TextEncoder();
const settings = configFrom({}).store;

type Ctx = { nc: NatsConnection; bus: EventBus; store: EventStore; indexer: Indexer; metrics: Metrics };

async function withStore(fn: (c: Ctx) => Promise<void>): Promise<void> {
  const srv = await startServer();
  const metrics = new Metrics();
  const bus = new EventBus(srv.nc);
  const indexer = new Indexer(srv.nc, settings, { metrics });
  try {
    await ensureStore(await jetstreamManager(srv.nc), settings);
    await fn({ nc: srv.nc, bus, store: new EventStore(srv.nc, { metrics }), indexer, metrics });
  } finally {
    await bus.close();
    await srv.stop();
  }
}

/** No router runs here: a one-shot catch-up indexes what is stored (the routers' writes are the same). */
async function indexed(indexer: Indexer): Promise<void> {
  await indexer.catchUp();
  assert.is(await indexer.lag(), 0);
}

test("getById finds SDK events through the index; a missing id is NotFoundError", async () => {
  await withStore(async ({ bus, store, indexer, metrics }) => {
    const a = await bus.publish("UserCreated", { user_id: "u1" }, { id: "id-a" });
    await bus.publish("UserCreated", { user_id: "u2" }, { id: "id-b" });
    await indexed(indexer);
    const got = await store.getById("id-a");
    assert.is(got.seq, a.seq);
    assert.is(got.event.type, "UserCreated");
    assert.equal(got.event.data, { user_id: "u1" });
    assert.is(got.subject, "events.UserCreated");
    assert.instance(got.time, Date);
    const missing = await store.getById("no-such-id").catch((e) => e);
    assert.instance(missing, NotFoundError);
    assert.is(missing.message, "event no-such-id not found");
    assert.is(await store.findById("no-such-id"), undefined);
    assert.is((await metrics.indexed.get()).values[0]?.value, 2);
    const status = await indexer.status();
    assert.equal(
      [status.pending, status.ackPending, status.indexedThrough, status.lastSeq, status.indexEntries],
      [0, 0, 2, 2, 3],
      "per event its id entry alone (each starts its own flow), plus the catch-up's position",
    );
  });
});

test("getByCorrelationId returns the flow's events in stream order; getByType pages with from/limit", async () => {
  await withStore(async ({ bus, store, indexer }) => {
    const published = [];
    for (let i = 0; i < 12; i++) {
      const type = i % 2 === 0 ? "UserCreated" : "UserUpdated";
      published.push(await bus.publish(type, { user_id: `u${i}` }, { id: `e${i}`, correlationId: i % 3 === 0 ? "flow-x" : `solo-${i}` }));
    }
    await indexed(indexer);
    const flow = await store.getByCorrelationId("flow-x");
    assert.equal(
      flow.map((e) => e.event.id),
      ["e0", "e3", "e6", "e9"],
    );
    assert.equal(
      flow.map((e) => e.seq),
      [1, 4, 7, 10],
    );
    assert.equal(await store.getByCorrelationId("unknown-flow"), []);
    const page1 = await store.getByType("UserCreated", { limit: 4 });
    assert.equal(
      page1.map((e) => e.event.id),
      ["e0", "e2", "e4", "e6"],
    );
    const page2 = await store.getByType("UserCreated", { from: page1[3]!.seq + 1, limit: 4 });
    assert.equal(
      page2.map((e) => e.event.id),
      ["e8", "e10"],
    );
    assert.equal(await store.getByType("NeverPublished"), []);
    const firstThree = [];
    for await (const e of store.history({ limit: 3 })) firstThree.push(e.event.id);
    assert.equal(firstThree, ["e0", "e1", "e2"]);
    const fromSeq = [];
    for await (const e of store.history({ fromSeq: 11 })) fromSeq.push(e.event.id);
    assert.equal(fromSeq, ["e10", "e11"]);
  });
});

test("a type page longer than one batched direct get (256 messages) goes on where the batch stopped, in stream order", async () => {
  await withStore(async ({ bus, store }) => {
    // two types interleaved, so each batch skips the other type's messages on the server
    const inputs = Array.from({ length: 700 }, (_, i) => ({ type: i % 2 ? "Odd" : "Even", data: { i }, id: `n${i}` }));
    const results = await bus.publishMany(inputs);
    assert.ok(results.every((r) => r.status === "fulfilled"));
    const page = await store.getByType("Even", { limit: 300 });
    assert.equal(
      page.map((e) => e.event.id),
      Array.from({ length: 300 }, (_, k) => `n${2 * k}`),
    );
    const rest = await store.getByType("Even", { from: page[299]!.seq + 1, limit: 1000 });
    assert.equal(
      rest.map((e) => e.event.id),
      Array.from({ length: 50 }, (_, k) => `n${600 + 2 * k}`),
    );
  });
});

test("a flow is one batched read of its entries; a flow indexed as a linked chain before 0.2 is still read, merged with new entries", async () => {
  await withStore(async ({ nc, bus, store, indexer }) => {
    const old1 = await bus.publish("UserCreated", { user_id: "o1" }, { correlationId: "flow-legacy" });
    const old2 = await bus.publish("UserCreated", { user_id: "o2" }, { correlationId: "flow-legacy" });
    await indexed(indexer);
    // what an indexer before 0.2 wrote for these two: a head and a link per event, no per-event entries
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge("JETBUS_INDEX", { filter: "index.EVENTS.corr.>" });
    const js = jetstream(nc);
    await js.publish(`index.EVENTS.link.${old1.seq}`, enc.encode(`{"seq":${old1.seq},"prev":0}`));
    await js.publish(`index.EVENTS.link.${old2.seq}`, enc.encode(`{"seq":${old2.seq},"prev":${old1.seq}}`));
    await js.publish(`index.EVENTS.corr.${tokenFor("flow-legacy")}`, enc.encode(`{"seq":${old2.seq},"prev":${old1.seq}}`));
    assert.equal(
      (await store.getByCorrelationId("flow-legacy")).map((e) => e.seq),
      [old1.seq, old2.seq],
      "the legacy chain alone",
    );
    const fresh = await bus.publish("UserCreated", { user_id: "n1" }, { correlationId: "flow-legacy" });
    await indexed(indexer);
    assert.ok(
      await jsm.streams.getMessage("JETBUS_INDEX", { last_by_subj: `index.EVENTS.corr.${tokenFor("flow-legacy")}.${fresh.seq}` }),
      "a new event gets its own entry",
    );
    assert.equal(
      (await store.getByCorrelationId("flow-legacy")).map((e) => e.seq),
      [old1.seq, old2.seq, fresh.seq],
      "chain and new entries together, in stream order",
    );
  });
});

test("an event that starts its flow has one index entry, which the flow's query reads; entries of indexes before 0.3 still count once", async () => {
  await withStore(async ({ nc, bus, store, indexer }) => {
    const root = await bus.publish("OrderPlaced", { order_id: "o1" }, { id: "root-1" });
    const child = await bus.publish("OrderPaid", { order_id: "o1" }, { id: "child-1", correlationId: "root-1" });
    await indexed(indexer);
    const jsm = await jetstreamManager(nc);
    const corr = `index.EVENTS.corr.${tokenFor("root-1")}`;
    assert.is(
      await jsm.streams.getMessage("JETBUS_INDEX", { last_by_subj: `${corr}.${root.seq}` }).catch(() => null),
      null,
      "no entry for the flow's first event",
    );
    assert.ok(await jsm.streams.getMessage("JETBUS_INDEX", { last_by_subj: `${corr}.${child.seq}` }), "one for the next");
    assert.equal(
      (await store.getByCorrelationId("root-1")).map((e) => e.event.id),
      ["root-1", "child-1"],
    );
    // an indexer before 0.3 wrote a correlation entry for every event, the first one included
    await jetstream(nc).publish(`${corr}.${root.seq}`, enc.encode(`{"seq":${root.seq}}`));
    assert.equal(
      (await store.getByCorrelationId("root-1")).map((e) => e.event.id),
      ["root-1", "child-1"],
    );
    // an event whose id names another flow is not in it
    await bus.publish("Unrelated", {}, { id: "other-1", correlationId: "elsewhere" });
    await indexed(indexer);
    assert.equal(
      (await store.getByCorrelationId("other-1")).map((e) => e.event.id),
      [],
    );
  });
});

test("time ranges: since/until select by store time, for type pages, history and correlations", async () => {
  await withStore(async ({ bus, store, indexer }) => {
    await bus.publish("Tick", { n: 1 }, { id: "t1", correlationId: "c" });
    await bus.publish("Tick", { n: 2 }, { id: "t2", correlationId: "c" });
    await indexed(indexer);
    const t2 = (await store.getById("t2")).time;
    await waitFor(() => Date.now() > t2.getTime() + 5, "the clock to move past t2");
    const cut = new Date();
    await waitFor(() => Date.now() > cut.getTime() + 5, "the clock to move past the cut");
    await bus.publish("Tick", { n: 3 }, { id: "t3", correlationId: "c" });
    await bus.publish("Tock", { n: 4 }, { id: "t4", correlationId: "c" });
    await indexed(indexer);
    const ids = async (it: AsyncIterable<{ event: { id: string } }>) => {
      const out: string[] = [];
      for await (const e of it) out.push(e.event.id);
      return out;
    };
    assert.equal(await ids(store.history({ since: cut })), ["t3", "t4"]);
    assert.equal(await ids(store.history({ until: cut })), ["t1", "t2"]);
    assert.equal(await ids(store.history({ type: "Tick", since: cut })), ["t3"]);
    assert.equal(await ids(store.history({ correlationId: "c", until: cut })), ["t1", "t2"]);
    assert.equal(
      (await store.getByType("Tick", { until: cut })).map((e) => e.event.id),
      ["t1", "t2"],
    );
    assert.equal(await ids(store.history({ since: new Date(Date.now() + 60_000) })), []);
  });
});

test("events from any client are indexed: raw bytes with and without headers, binary and structured CloudEvents", async () => {
  await withStore(async ({ nc, store, indexer }) => {
    // like `nats pub events.UserCreated '{...}'`: no headers at all
    nc.publish("events.UserCreated", enc.encode(JSON.stringify({ user_id: "raw-no-headers" })));
    // like `nats pub -H Nats-Msg-Id:raw-1 -H ce-correlationid:flow-raw ...`
    const h = headers();
    h.set("Nats-Msg-Id", "raw-1");
    h.set("ce-correlationid", "flow-raw");
    nc.publish("events.UserCreated", enc.encode(JSON.stringify({ user_id: "raw-with-headers" })), { headers: h });
    // binary mode by hand
    const b = headers();
    b.set("ce-specversion", "1.0");
    b.set("ce-id", "bin-1");
    b.set("ce-type", "UserUpdated");
    b.set("ce-source", "other-app");
    b.set("ce-correlationid", "flow-raw");
    nc.publish("events.UserUpdated", enc.encode(JSON.stringify({ user_id: "u" })), { headers: b });
    // structured mode
    const s = headers();
    s.set("content-type", "application/cloudevents+json");
    nc.publish(
      "events.UserDeleted",
      enc.encode(
        JSON.stringify({
          specversion: "1.0",
          id: "struct-1",
          type: "UserDeleted",
          source: "cli",
          correlationid: "flow-raw",
          data: { user_id: "u" },
        }),
      ),
      { headers: s },
    );
    await nc.flush();
    await waitFor(async () => (await indexer.status()).lastSeq === 4, "4 raw events stored", 30_000);
    await indexed(indexer);
    assert.equal((await store.getById("EVENTS-1")).event.data, { user_id: "raw-no-headers" });
    assert.equal((await store.getById("raw-1")).event.data, { user_id: "raw-with-headers" });
    assert.is((await store.getById("bin-1")).event.source, "other-app");
    assert.is((await store.getById("struct-1")).event.type, "UserDeleted");
    assert.equal(
      (await store.getByCorrelationId("flow-raw")).map((e) => e.event.id),
      ["raw-1", "bin-1", "struct-1"],
    );
    const history = [];
    for await (const e of store.history({ correlationId: "flow-raw" })) history.push(e.seq);
    assert.equal(history, [2, 3, 4]);
  });
});

test("malformed stored messages are skipped by queries and the indexer, counted, and still readable raw", async () => {
  await withStore(async ({ nc, bus, store, indexer, metrics }) => {
    await bus.publish("UserCreated", { user_id: "before" }, { id: "good-1", correlationId: "m" });
    nc.publish("events.UserCreated", enc.encode("this is not json {"));
    const bad = headers();
    bad.set("ce-specversion", "0.3");
    bad.set("ce-id", "bad-headers");
    nc.publish("events.UserCreated", enc.encode("{}"), { headers: bad });
    await nc.flush();
    await bus.publish("UserCreated", { user_id: "after" }, { id: "good-2", correlationId: "m" });
    await indexed(indexer);
    assert.equal(
      (await store.getByType("UserCreated")).map((e) => e.event.id),
      ["good-1", "good-2"],
    );
    assert.equal(
      (await store.getByCorrelationId("m")).map((e) => e.event.id),
      ["good-1", "good-2"],
    );
    assert.is(await store.findById("bad-headers"), undefined);
    const counts = (await metrics.malformed.get()).values;
    assert.is(counts.find((v) => v.labels.component === "indexer")?.value, 2);
    assert.is(counts.find((v) => v.labels.component === "store")?.value, 2);
    const raw = await store.getRaw(2);
    assert.is(new TextDecoder().decode(raw.data), "this is not json {");
    assert.is(raw.subject, "events.UserCreated");
    assert.is((await store.getRaw(3)).headers["ce-specversion"], "0.3");
    assert.instance(await store.getRaw(99).catch((e) => e), NotFoundError);
  });
});

test.run();
