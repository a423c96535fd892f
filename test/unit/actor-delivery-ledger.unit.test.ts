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

test.run();
