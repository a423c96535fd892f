import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, type StoredMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { EventStore, ensureStore } from "../../runtime/store/mod.ts";
import { Consumers, JetbusHeaders, Streams, Subjects } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { header, readAll, routerDeps, testConfig } from "../fixtures/router-support.ts";

/**
 * The router says on each inbox copy whether a duplicate is possible (`jetbus-dup-check: 1`), and
 * only then: the actor reads its processed marker for those copies alone. Possible: the router's
 * own delivery was a redelivery (or a re-route of what a crashed router left), the event is older
 * than the inbox's duplicate window, or its id is stored under another sequence too (the guarded
 * index write tells). A router that keeps no index cannot tell the last, so every copy says so.
 */
const config = testConfig({
  // a repeated id is stored again after 1 s (the store's own duplicate window)
  store: { duplicate_window: "1s" },
  actors: [{ name: "first" }, { name: "second" }, { name: "keyed", ordered: { key: "data.k", partitions: 2 } }],
  routes: {
    rules: [
      { name: "to-first", match: { type: "Thing", data: { eq: { v: 1 } } }, to: ["first"] },
      // the same id with other data reaches another actor: a copy id the inbox has not seen yet
      { name: "to-second", match: { type: "Thing", data: { eq: { v: 2 } } }, to: ["second"] },
      { name: "to-keyed", match: { type: "Keyed" }, to: ["keyed"] },
    ],
  },
});

async function publish(nc: NatsConnection, id: string, type: string, data: unknown): Promise<number> {
  const w = encodeEvent(createEvent({ id, type, data, source: "test" }));
  // a publish inside the store's duplicate window is dropped: go on until it is stored anew
  return waitFor(
    async () => {
      const ack = await jetstream(nc).publish(w.subject, w.data, { headers: w.headers });
      return ack.duplicate ? 0 : ack.seq;
    },
    `${id} stored`,
    20_000,
    100,
  );
}

async function copyOf(nc: NatsConnection, msgId: string): Promise<StoredMsg> {
  return waitFor(
    async () => (await readAll(nc, Streams.Inbox)).find((m) => header(m, "Nats-Msg-Id") === msgId),
    `the copy ${msgId}`,
    30_000,
  );
}

const flagged = (m: StoredMsg) => m.header.get(JetbusHeaders.DupCheck) === "1";

test("fresh events carry no dup-check; a repeated id, a re-routed delivery and a router without index do", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    router = await startRouter(routerDeps(nc, config));
    const seq1 = await publish(nc, "t-1", "Thing", { v: 1 });
    assert.not.ok(flagged(await copyOf(nc, "t-1:first")), "a first copy of a recent event");
    // the router wrote the index on the same delivery
    assert.is((await new EventStore(nc).getById("t-1")).seq, seq1);

    const seq2 = await publish(nc, "t-1", "Thing", { v: 2 });
    assert.ok(seq2 > seq1);
    assert.ok(flagged(await copyOf(nc, "t-1:second")), "the id is stored under another sequence too");
    assert.is((await new EventStore(nc).getById("t-1")).seq, seq2, "the id finds its newest holder");

    // ordered lane: a fresh keyed event, then its id again
    await publish(nc, "k-1", "Keyed", { k: "a" });
    assert.not.ok(flagged(await copyOf(nc, "k-1:keyed")), "a first ordered copy");
    await router.stop();

    // a router crashed holding an event: the next one re-routes it before consuming
    await publish(nc, "t-2", "Thing", { v: 1 });
    const taken = await (
      await jetstream(nc).consumers.get(config.store.stream, Consumers.router)
    ).fetch({ max_messages: 1, expires: 5000 });
    for await (const m of taken) assert.is(m.seq, seq2 + 2, "taken, never acked");
    router = await startRouter(routerDeps(nc, config));
    assert.ok(flagged(await copyOf(nc, "t-2:first")), "a re-routed event may have been routed before");
    await router.stop();

    // no index: nothing tells a repeated id, so every copy says a duplicate is possible
    router = await startRouter(routerDeps(nc, config), { index: false });
    await publish(nc, "t-3", "Thing", { v: 1 });
    assert.ok(flagged(await copyOf(nc, "t-3:first")));
    assert.is(await new EventStore(nc).findById("t-3"), undefined, "no index entry written");
  } finally {
    await router?.stop();
    await stop();
  }
});

test("the ordered lane: a repeated id says so on the ordered copy", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  const keyed = testConfig({
    store: { duplicate_window: "1s" },
    actors: [
      { name: "keyed", ordered: { key: "data.k", partitions: 2 } },
      { name: "other", ordered: { key: "data.k", partitions: 2 } },
    ],
    routes: {
      rules: [
        { name: "a", match: { type: "Keyed", data: { eq: { v: 1 } } }, to: ["keyed"] },
        { name: "b", match: { type: "Keyed", data: { eq: { v: 2 } } }, to: ["other"] },
      ],
    },
  });
  try {
    router = await startRouter(routerDeps(nc, keyed));
    await publish(nc, "o-1", "Keyed", { k: "x", v: 1 });
    assert.not.ok(flagged(await copyOf(nc, "o-1:keyed")));
    await publish(nc, "o-1", "Keyed", { k: "x", v: 2 });
    assert.ok(flagged(await copyOf(nc, "o-1:other")), "the ordered lane read the id entry the competing lane wrote");
  } finally {
    await router?.stop();
    await stop();
  }
});

test("an event older than the inbox's duplicate window carries dup-check on its first copy", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStore(jsm, config.store);
    // an inbox that forgets copy ids after 3 s: an event stored more than ~2.25 s ago may repeat a forgotten copy
    await jsm.streams.add({
      name: Streams.Inbox,
      subjects: [Subjects.inboxes],
      retention: RetentionPolicy.Workqueue,
      storage: "memory",
      duplicate_window: 3_000_000_000,
    });
    const seq = await publish(nc, "old-1", "Thing", { v: 1 });
    const stored = (await jsm.streams.getMessage(config.store.stream, { seq }))!.time.getTime();
    await waitFor(() => Date.now() > stored + 2_500, "the event to age past the window");
    router = await startRouter(routerDeps(nc, config));
    assert.ok(flagged(await copyOf(nc, "old-1:first")));
    const ci = await jsm.consumers.info(config.store.stream, Consumers.router);
    assert.is(ci.config.ack_policy, AckPolicy.Explicit);
  } finally {
    await router?.stop();
    await stop();
  }
});

test.run();
