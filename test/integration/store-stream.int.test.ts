import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { DataLossError, StoreConflictError, StoreMissingError } from "../../runtime/errors.ts";
import { ensureEventStream, ensureStore, StoreAccess } from "../../runtime/store/mod.ts";
import { planStore, StreamAction } from "../../runtime/cluster/store-plan.ts";
import { checkPlan } from "../../runtime/cluster/store-apply.ts";
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

test("ensureStore creates EVENTS over events.> and the index stream from config, is idempotent, and never changes or (for one-shots) creates a stream", async () => {
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
    // a config that differs never changes the stream: only `jetbus store apply` does
    const used = await ensureEventStream(jsm, store({ max_age: "2h", max_msgs: 1000, max_msg_size: 4096, duplicate_window: "30s" }));
    assert.is(used.config.max_age, 3600 * 1e9);
    assert.is((await jsm.streams.info("EVENTS")).config.max_age, 3600 * 1e9);
    // one-shot commands use the store and never create it
    await jsm.streams.delete("EVENTS");
    try {
      await ensureEventStream(jsm, store(), StoreAccess.Use);
      assert.unreachable("a missing store is not created for a one-shot command");
    } catch (err) {
      assert.instance(err, StoreMissingError);
    }
    assert.is(
      await jsm.streams.info("EVENTS").then(
        () => true,
        () => false,
      ),
      false,
    );
  } finally {
    await stop();
  }
});

test("store apply plan: storage and replicas changes are refused before anything changes, the store is used as found meanwhile", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, store());
    await (await import("@nats-io/jetstream")).jetstream(nc).publish("events.Kept", "{}");
    // a command with a memory-storage config uses the file stream as it is
    assert.is((await ensureEventStream(jsm, store({ storage: "memory" }))).config.storage, StorageType.File);
    const memory = await planStore(jsm, configFrom({ store: { storage: "memory" } }));
    const storage = memory.streams.find((s) => s.name === "EVENTS")!;
    assert.is(storage.action, StreamAction.Recreate);
    try {
      checkPlan(memory, { clustered: false });
      assert.unreachable("a storage change deletes the stored events");
    } catch (err) {
      assert.instance(err, DataLossError);
      assert.match((err as Error).message, /EVENTS store\.storage: deletes all 1 stored message/);
    }
    const r3 = await planStore(jsm, configFrom({ store: { replicas: 3 } }));
    const replicas = await conflictOf(Promise.resolve().then(() => checkPlan(r3, { clustered: false, allowDataLoss: true })));
    assert.is(replicas.setting, "store.replicas");
    assert.match(replicas.message, /not clustered/);
    assert.is((await jsm.streams.info("EVENTS")).state.messages, 1, "the stored event is still there");
  } finally {
    await stop();
  }
});

test("a stream of that name capturing other subjects is used as it is, and store apply refuses to orphan them", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.>", "legacy.>"] });
    assert.equal((await ensureEventStream(jsm, store())).config.subjects, ["events.>", "legacy.>"]);
    const plan = await planStore(jsm, configFrom({}));
    const err = await conflictOf(Promise.resolve().then(() => checkPlan(plan, { clustered: false, allowDataLoss: true })));
    assert.match(err.setting, /store\.stream/);
    assert.match(err.message, /legacy\.>/);
    assert.equal((await jsm.streams.info("EVENTS")).config.subjects, ["events.>", "legacy.>"]);
  } finally {
    await stop();
  }
});

test("a stream of that name with work-queue retention cannot be the store: STORE_CONFLICT for every command", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.>"], retention: RetentionPolicy.Workqueue });
    const err = await conflictOf(ensureEventStream(jsm, store(), StoreAccess.Use));
    assert.is(err.setting, "store.stream");
    assert.match(err.message, /workqueue retention/);
  } finally {
    await stop();
  }
});

test.run();
