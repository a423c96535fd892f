import { test } from "uvu";
import * as assert from "uvu/assert";
import { DeliveryLedger } from "../../runtime/actor/delivery-ledger.ts";

const T = 1_795_000_000_000_000_000;

test("a second copy of a running message is refused; once handled it is known as handled", () => {
  const l = new DeliveryLedger();
  assert.ok(l.begin(7, T));
  assert.not.ok(l.begin(7, T), "a second copy while the first runs is refused");
  assert.not.ok(l.wasHandled(7, T), "still running, not handled");
  l.markHandled(7, T);
  l.end(7);
  assert.not.ok(l.begin(7, T), "a late first copy after the handling is refused");
  assert.ok(l.wasHandled(7, T));
});

test("a failed handling is forgotten: its redelivery runs", () => {
  const l = new DeliveryLedger();
  assert.ok(l.begin(3, T));
  l.end(3);
  assert.ok(l.begin(3, T), "the retry runs");
  assert.not.ok(l.wasHandled(3, T));
});

test("the same sequence with another stored time is another message (an inbox created again)", () => {
  const l = new DeliveryLedger();
  l.begin(1, T);
  l.markHandled(1, T);
  l.end(1);
  assert.ok(l.begin(1, T + 1_000_000), "runs");
  assert.not.ok(l.wasHandled(1, T + 1_000_000));
});

test("only the latest `capacity` handled messages are kept", () => {
  const l = new DeliveryLedger(2);
  for (const seq of [1, 2, 3]) {
    l.begin(seq, T);
    l.markHandled(seq, T);
    l.end(seq);
  }
  assert.not.ok(l.wasHandled(1, T), "the oldest is dropped");
  assert.ok(l.wasHandled(2, T));
  assert.ok(l.wasHandled(3, T));
  assert.ok(l.begin(1, T), "a dropped message runs again (the processed marker still guards it)");
});

function handle(l: DeliveryLedger, seq: number, stamp: number): void {
  assert.ok(l.begin(seq, stamp), `seq ${seq} runs`);
  l.markHandled(seq, stamp);
  l.end(seq);
}

test("capacity eviction: the ring drops the oldest entry each time round, however many times it wraps", () => {
  const cap = 3;
  const l = new DeliveryLedger(cap);
  for (let seq = 1; seq <= 10; seq++) {
    handle(l, seq, T);
    // after each handling exactly the latest `cap` sequences are known
    for (let s = 1; s <= seq; s++) assert.is(l.wasHandled(s, T), s > seq - cap, `after ${seq}: seq ${s}`);
  }
});

test("capacity eviction: a slot drops only the entry it put there, not the same sequence handled again with another stamp", () => {
  const l = new DeliveryLedger(2);
  const T2 = T + 1_000_000;
  handle(l, 1, T); // slot 0
  handle(l, 1, T2); // slot 1: the inbox was created again, sequence 1 is another message now
  assert.ok(l.wasHandled(1, T2));
  assert.not.ok(l.wasHandled(1, T), "the first message's entry was replaced");
  handle(l, 2, T); // reuses slot 0, whose (1, T) is no longer in the map
  assert.ok(l.wasHandled(1, T2), "(1, T2) stays: slot 0 did not put it there");
  assert.ok(l.wasHandled(2, T));
  handle(l, 3, T); // reuses slot 1: now (1, T2) goes
  assert.not.ok(l.wasHandled(1, T2));
  assert.ok(l.wasHandled(2, T));
  assert.ok(l.wasHandled(3, T));
});

test("capacity eviction: marking one message handled twice takes one slot, and the next evictions keep the newer ones", () => {
  const l = new DeliveryLedger(2);
  handle(l, 1, T);
  l.markHandled(1, T); // a second mark (a caller outside the worker): no second slot
  handle(l, 2, T);
  assert.ok(l.wasHandled(1, T));
  assert.ok(l.wasHandled(2, T));
  handle(l, 3, T);
  assert.not.ok(l.wasHandled(1, T), "1 was the oldest");
  assert.ok(l.wasHandled(2, T), "2 was not dropped by a stale second slot of 1");
  assert.ok(l.wasHandled(3, T));
});

test.run();
