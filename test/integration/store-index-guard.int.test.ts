import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { tokenFor } from "../../runtime/events/subjects.ts";
import { BulkPublisher, ensureStore } from "../../runtime/store/mod.ts";
import { IndexWriter, indexReads, parseEntry, type IdEntry } from "../../runtime/store/index-entries.ts";
import { indexStreamFor } from "../../runtime/topology.ts";
import { startCluster, startServer } from "../helpers/nats.ts";

/** What the id entry of `id` holds now. */
async function idEntry(nc: NatsConnection, id: string): Promise<IdEntry | null> {
  const jsm = await jetstreamManager(nc);
  const m = await jsm.streams.getMessage(indexStreamFor("EVENTS"), { last_by_subj: `index.EVENTS.id.${tokenFor(id)}` }).catch(() => null);
  return parseEntry<IdEntry>(m);
}

/**
 * The id entry is written only if its subject holds nothing (Nats-Expected-Last-Subject-Sequence 0):
 * the write itself tells a repeated id, with no read before it. Checked on one server and on a
 * 3-node cluster (where a guarded write is checked by the stream leader before it is proposed).
 */
async function guardSemantics(nc: NatsConnection, replicas: number): Promise<void> {
  const store = configFrom({ store: { replicas } }).store;
  await ensureStore(await jetstreamManager(nc), store);
  const bulk = new BulkPublisher(nc);
  const reads = await indexReads(nc, indexStreamFor("EVENTS"));
  const index = new IndexWriter(bulk, reads, "EVENTS");
  try {
    assert.is(await index.record("a", "a", 5), false, "the first holder of an id");
    assert.is(await index.record("a", "a", 5), false, "the same event indexed again (a redelivery, the other lane, a catch-up)");
    assert.equal(await idEntry(nc, "a"), { seq: 5 });
    assert.is(await index.record("a", "a", 9), true, "the id stored again under another sequence");
    assert.equal(await idEntry(nc, "a"), { seq: 9, repeats: 5 }, "the id finds its newest holder, which knows it repeats one");
    assert.is(await index.record("a", "a", 9), true, "that repeat indexed again still says so");
    assert.is(await index.check("a", "a", 9), true);
    assert.is(await index.check("a", "a", 5), true, "the older holder, read by the ordered lane after the repeat: a duplicate is possible");

    assert.is(await index.check("b", "flow-b", 11), false, "nothing indexed yet: the check writes the entries itself");
    assert.equal(await idEntry(nc, "b"), { seq: 11 });
    assert.is(await index.record("b", "flow-b", 11), false, "the competing lane after the ordered lane's check");

    // one id stored under 20 sequences, all indexed at once: exactly one is its first holder
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => index.record("c", "c", 100 + i)));
    assert.is(results.filter((repeated) => !repeated).length, 1, `one first holder: ${results.join(",")}`);
    assert.ok(results.filter((repeated) => repeated).length === 19);
  } finally {
    await bulk.close();
    reads.close();
  }
}

test("index writes tell a repeated id (one server)", async () => {
  const { nc, stop } = await startServer();
  try {
    await guardSemantics(nc, 1);
  } finally {
    await stop();
  }
});

test("index writes tell a repeated id (3-node cluster, replicated index)", async () => {
  const { nc, stop } = await startCluster(3);
  try {
    await guardSemantics(nc, 3);
  } finally {
    await stop();
  }
});

test.run();
