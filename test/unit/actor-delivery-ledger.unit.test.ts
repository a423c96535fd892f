import { test } from "uvu";
import * as assert from "uvu/assert";
import { DeliveryLedger } from "../../runtime/actor/delivery-ledger.ts";

test("a second copy of a running sequence is refused; once handled it is known as handled", () => {
  const l = new DeliveryLedger();
  assert.ok(l.begin(7));
  assert.not.ok(l.begin(7), "a second copy while the first runs is refused");
  assert.not.ok(l.wasHandled(7), "still running, not handled");
  l.markHandled(7);
  l.end(7);
  assert.not.ok(l.begin(7), "a late first copy after the handling is refused");
  assert.ok(l.wasHandled(7));
});

test("a failed handling is forgotten: its redelivery runs", () => {
  const l = new DeliveryLedger();
  assert.ok(l.begin(3));
  l.end(3);
  assert.ok(l.begin(3), "the retry runs");
  assert.not.ok(l.wasHandled(3));
});

test("only the latest `capacity` handled sequences are kept", () => {
  const l = new DeliveryLedger(2);
  for (const seq of [1, 2, 3]) {
    l.begin(seq);
    l.markHandled(seq);
    l.end(seq);
  }
  assert.not.ok(l.wasHandled(1), "the oldest is dropped");
  assert.ok(l.wasHandled(2));
  assert.ok(l.wasHandled(3));
  assert.ok(l.begin(1), "a dropped sequence runs again (the processed marker still guards it)");
});

test.run();
