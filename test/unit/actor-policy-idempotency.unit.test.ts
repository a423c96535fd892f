import { test } from "uvu";
import * as assert from "uvu/assert";
import { idempotency, type MarkerStore, type Screened } from "../../runtime/actor/middleware/mod.ts";
import { markerKeyOf } from "../../runtime/actor/idempotency.ts";
import { inboxMessage, innerStep, recordingLogger, sampleEvent, screenedOf } from "../fixtures/handling.ts";

/** An in-memory marker bucket that records which read was used. */
function markerStore(initial: string[] = []) {
  const keys = new Set(initial);
  const reads: string[] = [];
  const store: MarkerStore & { keys: Set<string>; reads: string[]; failReads: boolean } = {
    keys,
    reads,
    failReads: false,
    has: async (k) => {
      reads.push("has");
      if (store.failReads) throw new Error("no responders");
      return keys.has(k);
    },
    hasOnLeader: async (k) => {
      reads.push("leader");
      return keys.has(k);
    },
    mark: async (k) => void keys.add(k),
  };
  return store;
}

const opts = () => ({ logger: recordingLogger().logger, readRetryDelayMs: 1000, writeRetryMs: 1000 });
const FIRST = { duplicatePossible: false, askLeader: false };
const POSSIBLE = { duplicatePossible: true, askLeader: false };
const REDELIVERY = { duplicatePossible: true, askLeader: true };

test("idempotency: a first copy is handled without a marker read, and its marker is written after the handler", async () => {
  const markers = markerStore();
  const inner = innerStep<Screened>();
  const e = sampleEvent();
  assert.equal(await idempotency(markers, opts())(inner)(screenedOf(inboxMessage(e), FIRST)), { kind: "ack", result: "handled" });
  assert.equal(markers.reads, [], "no read: no second copy can exist");
  assert.ok(markers.keys.has(markerKeyOf(e)));
});

test("idempotency: a copy that may be a duplicate reads the marker and is acked without the handler when it exists", async () => {
  const e = sampleEvent();
  const markers = markerStore([markerKeyOf(e)]);
  const inner = innerStep<Screened>();
  const step = idempotency(markers, opts())(inner);
  assert.equal(await step(screenedOf(inboxMessage(e), POSSIBLE)), { kind: "ack", result: "duplicate" });
  assert.equal(await step(screenedOf(inboxMessage(e, { deliveryCount: 2 }), REDELIVERY)), { kind: "ack", result: "duplicate" });
  assert.is(inner.calls.length, 0);
  assert.equal(markers.reads, ["has", "leader"], "a redelivery asks the bucket's leader");
  // without a marker the possible duplicate is handled, and marked
  const other = sampleEvent();
  assert.equal(await step(screenedOf(inboxMessage(other), POSSIBLE)), { kind: "ack", result: "handled" });
  assert.ok(markers.keys.has(markerKeyOf(other)));
});

test("idempotency: a failed handling writes no marker; a replay copy has its own key", async () => {
  const markers = markerStore();
  const e = sampleEvent();
  const failing = idempotency(
    markers,
    opts(),
  )(innerStep<Screened>(() => Promise.resolve({ kind: "nak", delayMs: 5, error: new Error("x"), ran: true })));
  assert.is((await failing(screenedOf(inboxMessage(e), FIRST))).kind, "nak");
  assert.is(markers.keys.size, 0);
  markers.keys.add(markerKeyOf(e));
  const replay = screenedOf(inboxMessage(e, { headers: { "jetbus-replay": "run-1" } }), POSSIBLE);
  assert.equal(await idempotency(markers, opts())(innerStep<Screened>())(replay), { kind: "ack", result: "handled" });
  assert.ok(markers.keys.has(markerKeyOf(e, "run-1")));
});

test("idempotency: an unreadable marker gives the delivery back for later, without the handler", async () => {
  const markers = markerStore();
  markers.failReads = true;
  const inner = innerStep<Screened>();
  const out = await idempotency(markers, opts())(inner)(screenedOf(inboxMessage(sampleEvent()), POSSIBLE));
  assert.equal(out, { kind: "nak", delayMs: 1000 });
  assert.is(inner.calls.length, 0);
});

test("idempotency: a marker write that fails for good is logged, and the delivery is still acked", async () => {
  const { logger, lines } = recordingLogger();
  const markers: MarkerStore = {
    has: async () => false,
    hasOnLeader: async () => false,
    mark: () => Promise.reject(new Error("insufficient resources")),
  };
  const out = await idempotency(markers, { logger, readRetryDelayMs: 1, writeRetryMs: 50 })(innerStep<Screened>())(
    screenedOf(inboxMessage(sampleEvent()), FIRST),
  );
  assert.equal(out, { kind: "ack", result: "handled" });
  assert.ok(lines.some((l) => /processed marker not written/.test(String(l.msg))));
});

test.run();
