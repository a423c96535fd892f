import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { EventBus, EventStore, Indexer, ensureStore } from "../../runtime/store/mod.ts";
import { startCluster } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

test("on a 3-node cluster: replicated store, publishes across a leader change are each acked once, indexes work", async () => {
  const { nc, stop } = await startCluster(3);
  const settings = configFrom({ store: { replicas: 3 } }).store;
  const bus = new EventBus(nc, { ackTimeoutMs: 2000 });
  const indexer = new Indexer(nc, settings);
  try {
    const jsm = await jetstreamManager(nc);
    const { events, index } = await ensureStore(jsm, settings);
    assert.is(events.config.num_replicas, 3);
    assert.is(index.config.num_replicas, 3);
    const first = bus.publishMany(
      Array.from({ length: 100 }, (_, i) => ({
        type: "UserCreated",
        data: { user_id: `u${i}` },
        id: `c-${i}`,
        correlationId: "cluster-flow",
      })),
    );
    // the stream leader steps down while the batch is in flight: sends land on no leader (503) and are resent with the same ids
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${settings.stream}`, undefined, { timeout: 5000 }).catch(() => undefined);
    const second = await bus.publishMany(
      Array.from({ length: 100 }, (_, i) => ({
        type: "UserCreated",
        data: { user_id: `u${i}` },
        id: `c-${100 + i}`,
        correlationId: "cluster-flow",
      })),
    );
    const results = [...(await first), ...second];
    const failed = results.filter((r) => r.status === "rejected");
    assert.is(failed.length, 0, failed.map((r) => String((r as PromiseRejectedResult).reason)).join("; "));
    await waitFor(async () => (await jsm.streams.info(settings.stream)).state.messages === 200, "200 events stored once each", 30_000);
    const reads = new EventStore(nc);
    // guarded id writes on a replicated index stream, through a one-shot catch-up
    await indexer.catchUp({ timeoutMs: 60_000 });
    assert.is((await reads.getByCorrelationId("cluster-flow")).length, 200, "the whole flow indexed");
    assert.is((await reads.getById("c-150")).event.id, "c-150");
  } finally {
    await bus.close();
    await stop();
  }
});

test.run();
