import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/mod.ts";
import { StoreConflictError } from "../../runtime/errors.ts";
import { ensureEventStream, ensureStore } from "../../runtime/store/mod.ts";
import { Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";

const store = (s: Record<string, unknown> = {}) => configFrom({ store: s }).store;

async function conflictOf(p: Promise<unknown>): Promise<StoreConflictError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, StoreConflictError);
    return err as StoreConflictError;
  }
  throw new Error("expected a StoreConflictError");
}

test("ensureStore creates EVENTS over events.> and the index stream from config, and is idempotent", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    const settings = store({ max_age: "1h", max_msgs: 1000, max_msg_size: 4096, duplicate_window: "30s" });
    const first = await ensureStore(jsm, settings);
    assert.equal(first.events.config.subjects, ["events.>"]);
    assert.is(first.events.config.max_age, 3600 * 1e9);
    assert.is(first.events.config.max_msgs, 1000);
    assert.is(first.events.config.max_msg_size, 4096);
    assert.is(first.events.config.duplicate_window, 30 * 1e9);
    assert.is(first.events.config.storage, StorageType.File);
    assert.is(first.index.config.name, Streams.Index);
    assert.is(first.index.config.max_age, 3600 * 1e9, "index entries expire with their events");
    const again = await ensureStore(jsm, settings);
    assert.equal(again.events.created, first.events.created, "same stream, not re-created");
    // a retention change is applied in place
    const updated = await ensureEventStream(jsm, store({ max_age: "2h", max_msgs: 1000, max_msg_size: 4096, duplicate_window: "30s" }));
    assert.is(updated.config.max_age, 7200 * 1e9);
    assert.is((await jsm.streams.info("EVENTS")).config.max_age, 7200 * 1e9);
  } finally {
    await stop();
  }
});

test("a change the server cannot apply in place is refused naming the setting, and nothing is deleted", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, store());
    await (await import("@nats-io/jetstream")).jetstream(nc).publish("events.Kept", "{}");
    const storage = await conflictOf(ensureEventStream(jsm, store({ storage: "memory" })));
    assert.is(storage.setting, "store.storage");
    assert.match(storage.message, /file storage/);
    const replicas = await conflictOf(ensureEventStream(jsm, store({ replicas: 3 })));
    assert.is(replicas.setting, "store.replicas");
    assert.is((await jsm.streams.info("EVENTS")).state.messages, 1, "the stored event is still there");
  } finally {
    await stop();
  }
});

test("a stream of that name capturing other subjects is refused rather than orphaning them", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.>", "legacy.>"] });
    const err = await conflictOf(ensureEventStream(jsm, store()));
    assert.is(err.setting, "store.stream");
    assert.match(err.message, /legacy\.>/);
    assert.equal((await jsm.streams.info("EVENTS")).config.subjects, ["events.>", "legacy.>"]);
  } finally {
    await stop();
  }
});

test.run();
