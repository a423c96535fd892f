import { test } from "uvu";
import * as assert from "uvu/assert";
import { Slots } from "../../runtime/consumer/slots.ts";

test("slots admit at most `size` holders; the others wait in arrival order and a released slot passes to the first", () => {
  const s = new Slots<string>(2);
  assert.ok(s.offer("a"));
  assert.ok(s.offer("b"));
  assert.not.ok(s.offer("c"), "third waits while two are held");
  assert.not.ok(s.offer("d"));
  assert.is(s.queued, 2);
  assert.is(s.release(), "c", "the slot passes straight to the first waiter");
  assert.is(s.inUse, 2);
  assert.is(s.release(), "d");
  assert.is(s.release(), undefined, "nobody waits: the slot is free");
  assert.is(s.inUse, 1);
  s.release();
  assert.is(s.inUse, 0);
});

test("tryAcquire takes a free slot at once, never one a waiter is owed", () => {
  const s = new Slots<number>(1);
  assert.ok(s.tryAcquire());
  assert.not.ok(s.tryAcquire(), "full");
  assert.not.ok(s.offer(1));
  assert.is(s.release(), 1, "handed to the waiter, not freed");
  assert.not.ok(s.tryAcquire(), "the released slot went to the waiter");
  assert.is(s.release(), undefined);
  assert.ok(s.tryAcquire());
});

test("close() returns the waiters (they never held a slot) and refuses new holders", () => {
  const s = new Slots<number>(1);
  assert.ok(s.offer(1));
  s.offer(2);
  s.offer(3);
  assert.equal(s.close(), [2, 3]);
  assert.not.ok(s.offer(4));
  assert.not.ok(s.tryAcquire());
  assert.is(s.queued, 0, "a refused offer is not queued");
});

test("a long queue is compacted as it drains, and keeps its order", () => {
  const s = new Slots<number>(1);
  s.offer(-1);
  for (let i = 0; i < 5000; i++) s.offer(i);
  for (let i = 0; i < 5000; i++) assert.is(s.release(), i);
  assert.is(s.queued, 0);
});

test.run();
