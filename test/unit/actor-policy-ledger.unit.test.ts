import { test } from "uvu";
import * as assert from "uvu/assert";
import { deliveryLedger, type Delivered, type Settled } from "../../runtime/actor/middleware/mod.ts";
import { handlingOf, inboxMessage, innerStep, sampleEvent } from "../fixtures/handling.ts";

test("ledger: a second copy of a message handled here is acked as a duplicate without the inner steps", async () => {
  const inner = innerStep<Delivered, Settled>();
  const step = deliveryLedger()(inner);
  const e = sampleEvent();
  assert.equal(await step(handlingOf(inboxMessage(e, { seq: 5, stamp: 9 }))), { kind: "ack", result: "handled" });
  assert.equal(await step(handlingOf(inboxMessage(e, { seq: 5, stamp: 9, deliveryCount: 2 }))), { kind: "ack", result: "duplicate" });
  assert.is(inner.calls.length, 1);
});

test("ledger: a copy of a message still running here is left alone; a recreated inbox's same sequence is a new message", async () => {
  let finish!: (o: Settled) => void;
  const inner = innerStep<Delivered, Settled>(() => new Promise<Settled>((r) => (finish = r)));
  const step = deliveryLedger()(inner);
  const e = sampleEvent();
  const first = step(handlingOf(inboxMessage(e, { seq: 5, stamp: 9 })));
  assert.equal(await step(handlingOf(inboxMessage(e, { seq: 5, stamp: 9, deliveryCount: 2 }))), { kind: "leave" });
  finish({ kind: "ack", result: "handled" });
  await first;
  // same sequence, other stored time: another message
  const other = step(handlingOf(inboxMessage(e, { seq: 5, stamp: 10 })));
  finish({ kind: "ack", result: "handled" });
  await other;
  assert.is(inner.calls.length, 2);
});

test("ledger: a delivery that was naked is not remembered as handled: its redelivery runs", async () => {
  const inner = innerStep<Delivered, Settled>(() => Promise.resolve({ kind: "nak", delayMs: 10 }));
  const step = deliveryLedger()(inner);
  const e = sampleEvent();
  await step(handlingOf(inboxMessage(e, { seq: 3 })));
  await step(handlingOf(inboxMessage(e, { seq: 3, deliveryCount: 2 })));
  assert.is(inner.calls.length, 2);
});

test.run();
