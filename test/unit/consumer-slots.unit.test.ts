import { test } from "uvu";
import * as assert from "uvu/assert";
import { Slots } from "../../runtime/consumer/slots.ts";

test("slots admit at most `size` holders and hand a released slot to the next waiter", async () => {
  const s = new Slots(2);
  assert.ok(await s.acquire());
  assert.ok(await s.acquire());
  let third = false;
  const waiting = s.acquire().then((ok) => (third = ok));
  await Promise.resolve();
  assert.not.ok(third, "third waits while two are held");
  s.release();
  await waiting;
  assert.ok(third);
  assert.is(s.inUse, 2);
  s.release();
  s.release();
  assert.is(s.inUse, 0);
});

test("tryAcquire takes a free slot at once, never one a waiter is owed, and none after close()", async () => {
  const s = new Slots(1);
  assert.ok(s.tryAcquire());
  assert.not.ok(s.tryAcquire(), "full");
  const waiter = s.acquire();
  s.release(); // handed to the waiter, not freed
  assert.not.ok(s.tryAcquire(), "the released slot went to the waiter");
  assert.ok(await waiter);
  s.release();
  assert.ok(s.tryAcquire());
  s.release();
  s.close();
  assert.not.ok(s.tryAcquire());
});

test("close() releases waiters with false and refuses new holders", async () => {
  const s = new Slots(1);
  await s.acquire();
  const waiter = s.acquire();
  s.close();
  assert.is(await waiter, false);
  assert.is(await s.acquire(), false);
});

test.run();
