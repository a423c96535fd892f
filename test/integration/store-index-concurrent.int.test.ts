import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { EventBus, EventStore, Indexer, ensureStore } from "../../runtime/store/mod.ts";
import { startServer } from "../helpers/nats.ts";

test("two one-shot catch-ups racing over the same events build every correlation whole and in stream order", async () => {
  const { nc, server, stop } = await startServer();
  const other = await connectNats({ servers: server.url, name: "second-indexer" });
  const store = configFrom({}).store;
  await ensureStore(await jetstreamManager(nc), store);
  // both see no router and index the same range at once: every entry is written twice, in either order
  const indexers = [new Indexer(nc, store), new Indexer(other, store)];
  const bus = new EventBus(nc);
  try {
    // a flow's events side by side, so both indexers often see the first events of one flow at once
    const FLOWS = 300,
      PER_FLOW = 3;
    const inputs = [];
    for (let f = 0; f < FLOWS; f++)
      for (let n = 0; n < PER_FLOW; n++) inputs.push({ type: "StepDone", data: { f, n }, correlationId: `flow-${f}` });
    const results = await bus.publishMany(inputs);
    assert.ok(results.every((r) => r.status === "fulfilled"));
    await Promise.all(indexers.map((i) => i.catchUp()));
    assert.is(await indexers[0]!.lag(), 0);
    const reads = new EventStore(nc);
    const broken: string[] = [];
    for (let f = 0; f < FLOWS; f++) {
      const got = (await reads.getByCorrelationId(`flow-${f}`)).map((e) => (e.event.data as { n: number }).n);
      if (got.join() !== "0,1,2") broken.push(`flow-${f}: [${got.join()}]`);
    }
    assert.equal(broken, [], `${broken.length} of ${FLOWS} flows incomplete or out of order`);
  } finally {
    await bus.close();
    await other.close();
    await stop();
  }
});

test.run();
