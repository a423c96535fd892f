import { test } from "uvu";
import * as assert from "uvu/assert";
import { idempotency, primeMarker, type MarkerStore } from "../../runtime/actor/middleware/mod.ts";
import { markerKeyOf } from "../../runtime/actor/idempotency.ts";
import { decodeHandling } from "../../runtime/actor/middleware/decode.ts";
import { handlingOf, inboxMessage, innerStep, recordingLogger, sampleEvent } from "../fixtures/handling.ts";

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

function decoded(msg: ReturnType<typeof inboxMessage>) {
  const h = handlingOf(msg);
  decodeHandling(h);
  return h;
}

test("idempotency: the marker is written after the handler succeeds; the redelivery is acked as a duplicate without it", async () => {
  const markers = markerStore();
  const inner = innerStep();
  const step = idempotency(markers, opts())(inner);
  const e = sampleEvent();
  assert.equal(await step(decoded(inboxMessage(e))), { kind: "ack", result: "handled" });
  assert.ok(markers.keys.has(markerKeyOf(e)));
  assert.equal(await step(decoded(inboxMessage(e, { deliveryCount: 2 }))), { kind: "ack", result: "duplicate" });
  assert.is(inner.calls.length, 1);
  assert.equal(markers.reads, ["has", "leader"], "a redelivery asks the bucket's leader");
});

test("idempotency: a failed handling writes no marker; a replay copy has its own key", async () => {
  const markers = markerStore();
  const e = sampleEvent();
  const failing = idempotency(
    markers,
    opts(),
  )(innerStep(() => Promise.resolve({ kind: "nak", delayMs: 5, error: new Error("x"), ran: true })));
  assert.is((await failing(decoded(inboxMessage(e)))).kind, "nak");
  assert.is(markers.keys.size, 0);
  markers.keys.add(markerKeyOf(e));
  const replay = decoded(inboxMessage(e, { headers: { "jetbus-replay": "run-1" } }));
  assert.equal(await idempotency(markers, opts())(innerStep())(replay), { kind: "ack", result: "handled" });
  assert.ok(markers.keys.has(markerKeyOf(e, "run-1")));
});

test("idempotency: an unreadable marker gives the delivery back for later, without the handler", async () => {
  const markers = markerStore();
  markers.failReads = true;
  const inner = innerStep();
  const out = await idempotency(markers, opts())(inner)(decoded(inboxMessage(sampleEvent())));
  assert.equal(out, { kind: "nak", delayMs: 1000 });
  assert.is(inner.calls.length, 0);
});

test("idempotency: primeMarker sends a waiting delivery's read early and the chain uses that answer", async () => {
  const e = sampleEvent();
  const markers = markerStore([markerKeyOf(e)]);
  const h = decoded(inboxMessage(e));
  primeMarker(markers, h, true);
  assert.equal(markers.reads, ["has"]);
  const inner = innerStep();
  assert.equal(await idempotency(markers, opts())(inner)(h), { kind: "ack", result: "duplicate" });
  assert.equal(markers.reads, ["has"], "no second read");
  assert.is(inner.calls.length, 0);
});

test.run();
