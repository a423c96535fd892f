import { test } from "uvu";
import * as assert from "uvu/assert";
import { screen, type Screened } from "../../runtime/actor/middleware/mod.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { decodedOf, inboxMessage, innerStep, sampleEvent, type MessageOptions } from "../fixtures/handling.ts";

const WINDOW = 120_000;
const nowNanos = () => Date.now() * 1e6;

async function screened(msg: ReturnType<typeof inboxMessage>, waitedMs = 0, storeWindowMs: number | "unknown" = WINDOW) {
  const inner = innerStep<Screened>();
  await screen({ ackWaitMs: 30_000, storeWindowMs: storeWindowMs === "unknown" ? undefined : storeWindowMs })(inner)(
    decodedOf(msg, { waitedMs, freeSlot: () => undefined }),
  );
  const h = inner.calls[0]!;
  return { duplicatePossible: h.duplicatePossible, askLeader: h.askLeader };
}

const FIRST = { duplicatePossible: false, askLeader: false };
const POSSIBLE = { duplicatePossible: true, askLeader: false };
const LEADER = { duplicatePossible: true, askLeader: true };

test("screen: an inbox copy's first delivery is no duplicate unless the router, a replay or a dead-letter replay says it may be", async () => {
  const e = sampleEvent();
  assert.equal(await screened(inboxMessage(e)), FIRST);
  assert.equal(await screened(inboxMessage(e, { headers: { "jetbus-dup-check": "1" } })), POSSIBLE);
  assert.equal(await screened(inboxMessage(e, { headers: { "jetbus-replay": "run-1" } })), POSSIBLE);
});

test("screen: a redelivery, or a delivery that waited past half of ack_wait for its slot, asks the marker bucket's leader", async () => {
  const e = sampleEvent();
  assert.equal(await screened(inboxMessage(e, { deliveryCount: 2 })), LEADER);
  assert.equal(await screened(inboxMessage(e), 15_001), LEADER);
  assert.equal(await screened(inboxMessage(e), 14_000), FIRST);
});

test("screen: a direct actor's store message is a first storing only when its ce-time lies within the store's duplicate window (less the clock margin)", async () => {
  const at = (msAgo: number, o: MessageOptions = {}) =>
    inboxMessage(createEvent({ type: "UserCreated", data: {}, source: "t", time: new Date(Date.now() - msAgo).toISOString() }), {
      stream: "EVENTS",
      stamp: nowNanos(),
      ...o,
    });
  assert.equal(await screened(at(50)), FIRST, "stored 50 ms after it was created");
  assert.equal(await screened(at(89_000)), FIRST, "inside 120 s less the 30 s margin");
  assert.equal(await screened(at(91_000)), POSSIBLE, "past it: an earlier storing may be past the window");
  assert.equal(await screened(at(-20_000)), FIRST, "a producer clock 20 s ahead is within the margin");
  assert.equal(await screened(at(-31_000)), POSSIBLE, "one further ahead is not trusted");
  assert.equal(await screened(at(50), 0, "unknown"), POSSIBLE, "an unknown window rules nothing out");
  assert.equal(await screened(at(50, { deliveryCount: 2 })), LEADER);
});

test("screen: a store message without ce-time (its time filled in from the stream) proves nothing", async () => {
  const e = sampleEvent();
  const msg = inboxMessage(e, { stream: "EVENTS", stamp: nowNanos() });
  (msg.headers as unknown as { headers: Map<string, string[]> }).headers.delete("ce-time");
  assert.not.ok(msg.headers?.has("ce-time"));
  assert.equal(await screened(msg), POSSIBLE);
});

test.run();
