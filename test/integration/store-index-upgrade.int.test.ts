import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { ensureRouterConsumer } from "../../runtime/routing/lane-consumers.ts";
import { EventStore, Indexer, ensureStore } from "../../runtime/store/mod.ts";
import { Consumers } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { event, publishEvents, routerDeps, testConfig } from "../fixtures/router-support.ts";

const config = testConfig({ actors: [{ name: "sink" }], routes: { rules: [{ match: { type: "Thing" }, to: ["sink"] }] } });

/** Acks the first `n` events on a durable, as the process that owned it did. */
async function ackFirst(nc: Parameters<typeof jetstream>[0], durable: string, n: number): Promise<void> {
  const batch = await (await jetstream(nc).consumers.get(config.store.stream, durable)).fetch({ max_messages: n, expires: 5000 });
  for await (const m of batch) m.ack();
  await nc.flush();
}

/**
 * A deployment upgraded from before 0.3: its own indexer durable (jetbus-indexer) indexed up to
 * seq 4, its routers routed up to seq 8. The first new router indexes 5-8 (routed, never indexed),
 * deletes the old durable, and indexes what it routes itself: every event is found by id.
 */
test("a router retires the indexer durable of jetbus before 0.3, indexing the gap between it and the routers", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStore(jsm, config.store);
    await jsm.consumers.add(config.store.stream, {
      durable_name: Consumers.indexer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 4096,
    });
    await ensureRouterConsumer(jsm, config.store.stream);
    const events = Array.from({ length: 10 }, (_, i) => event("Thing", { i }));
    await publishEvents(nc, events);
    // the old indexer got through 4 events (their entries written as it wrote them: id and correlation)
    await ackFirst(nc, Consumers.indexer, 4);
    await new Indexer(nc, config.store).indexRange(1, 4);
    await ackFirst(nc, Consumers.router, 8);
    const before = await new Indexer(nc, config.store).status();
    assert.is(before.indexedThrough, 4, "while the old durable exists, its position is the index's");

    router = await startRouter(routerDeps(nc, config));
    await waitFor(
      async () => !(await jsm.consumers.info(config.store.stream, Consumers.indexer).catch(() => null)),
      "the old durable gone",
      30_000,
    );
    const store = new EventStore(nc);
    await waitFor(async () => (await store.findById(events[9]!.id)) !== undefined, "the router to index what it routes", 30_000);
    for (const [i, e] of events.entries()) assert.is((await store.getById(e.id)).seq, i + 1, `event ${i + 1} found by id`);
    const after = await new Indexer(nc, config.store).status();
    assert.is(after.indexedThrough, 10, "the routers' ack floor is the index's position");
    assert.is(after.pending + after.ackPending, 0);
  } finally {
    await router?.stop();
    await stop();
  }
});

test.run();
