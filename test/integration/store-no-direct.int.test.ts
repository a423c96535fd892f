import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { NotFoundError } from "../../runtime/errors.ts";
import { buildTraceTree } from "../../runtime/operations/trace.ts";
import { gatherTraceFacts } from "../../runtime/operations/trace-facts.ts";
import { storeCorrelationLookup } from "../../runtime/operations/store-lookup.ts";
import { EventBus, EventStore, Indexer, ensureStore } from "../../runtime/store/mod.ts";
import { indexStreamFor } from "../../runtime/topology.ts";
import { planStore } from "../../runtime/cluster/store-plan.ts";
import { ChangeEffect } from "../../runtime/store/drift.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const config = configFrom({});

// A store made by hand (`nats stream add`) has allow_direct false: nothing answers a direct get,
// so every read must go to the stream leader's message get instead.
test("a hand-made store without direct gets is read by id, correlation, type and trace", async () => {
  const srv = await startServer();
  const bus = new EventBus(srv.nc);
  const indexer = new Indexer(srv.nc, config.store);
  try {
    const jsm = await jetstreamManager(srv.nc);
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.>"], duplicate_window: 120_000_000_000 });
    await ensureStore(jsm, config.store);
    // the index stream as a hand-made one would be, too
    const index = await jsm.streams.info(indexStreamFor("EVENTS"));
    await jsm.streams.update(index.config.name, { ...index.config, allow_direct: false });
    for (const name of ["EVENTS", indexStreamFor("EVENTS")]) assert.is((await jsm.streams.info(name)).config.allow_direct, false, name);

    await bus.publish("UserCreated", { user_id: "u1" }, { id: "root", correlationId: "flow-1" });
    await bus.publish("UserWelcomed", {}, { id: "child", correlationId: "flow-1", causationId: "root" });
    await bus.publish("OrderPlaced", {}, { id: "other", correlationId: "flow-2" });
    await indexer.catchUp();
    assert.is(await indexer.lag(), 0);

    const store = new EventStore(srv.nc);
    assert.is((await store.getById("child")).event.causationid, "root");
    const missing = await store.getById("nope").catch((e: unknown) => e);
    assert.instance(missing, NotFoundError);
    assert.equal(
      (await store.getByCorrelationId("flow-1")).map((e) => e.event.id),
      ["root", "child"],
    );
    assert.equal(
      (await store.getByType("UserWelcomed")).map((e) => e.event.id),
      ["child"],
    );
    const all: string[] = [];
    for await (const e of store.history({ fromSeq: 2 })) all.push(e.event.id);
    assert.equal(all, ["child", "other"]);
    assert.is((await store.getRaw(1)).seq, 1);

    const facts = await gatherTraceFacts(srv.nc, jsm, {
      correlationId: "flow-1",
      lookup: storeCorrelationLookup(srv.nc, jsm, config.store),
      actors: [],
    });
    const tree = buildTraceTree(facts);
    assert.is(tree.events, 2);
    assert.equal([tree.roots[0]!.event.id, tree.roots[0]!.children[0]!.event.id], ["root", "child"]);
  } finally {
    await bus.close();
    await srv.stop();
  }
});

test("store apply's plan measures what a shorter max_age deletes from a hand-made store without direct gets", async () => {
  const srv = await startServer();
  const bus = new EventBus(srv.nc);
  try {
    const jsm = await jetstreamManager(srv.nc);
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.>"], duplicate_window: 120_000_000_000 });
    const old = await bus.publish("UserCreated", { user_id: "u1" });
    const storedAt = Date.parse((await jsm.streams.getMessage("EVENTS", { seq: old.seq }))!.timestamp);
    // the first event well past a 1 s max_age, the second well inside it
    await waitFor(() => Date.now() > storedAt + 1500, "the first event to be 1.5 s old", 10_000);
    await bus.publish("UserCreated", { user_id: "u2" });

    const plan = await planStore(jsm, configFrom({ store: { max_age: "1s" } }));
    const events = plan.streams.find((p) => p.name === "EVENTS")!;
    const maxAge = events.changes.find((c) => c.key === "max_age");
    assert.is(maxAge?.effect, ChangeEffect.DataLoss);
    assert.is(maxAge?.loss, "deletes 1 of the 2 stored messages (those older than 1s)");
  } finally {
    await bus.close();
    await srv.stop();
  }
});

test.run();
