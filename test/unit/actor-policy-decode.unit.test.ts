import { test } from "uvu";
import * as assert from "uvu/assert";
import { decode, eventIdOf, type Decoded } from "../../runtime/actor/middleware/mod.ts";
import { handlingOf, inboxMessage, innerStep, sampleEvent } from "../fixtures/handling.ts";

test("decode: the inner steps see the decoded event", async () => {
  const e = sampleEvent({ user_id: "u7" });
  const inner = innerStep<Decoded>();
  const out = await decode()(inner)(handlingOf(inboxMessage(e)));
  assert.equal(out, { kind: "ack", result: "handled" });
  assert.is(inner.calls[0]?.event.id, e.id);
  assert.equal(inner.calls[0]?.event.data, { user_id: "u7" });
});

test("decode: a message that is not an event goes to the dead letters at once, under its Nats-Msg-Id, without the inner steps", async () => {
  const inner = innerStep<Decoded>();
  const h = handlingOf(inboxMessage(new TextEncoder().encode("not json"), { headers: { "Nats-Msg-Id": "bad-1" }, deliveryCount: 1 }));
  const out = await decode()(inner)(h);
  assert.is(out.kind, "dead-letter");
  assert.is(out.kind === "dead-letter" && out.reason, "undecodable");
  assert.is(out.kind === "dead-letter" && (out.error as { code?: string }).code, "EVENT_INVALID");
  assert.is(inner.calls.length, 0);
  assert.is(eventIdOf(h), "bad-1");
});

test("decode: without any id header, the failure is reported under <inbox>-<seq>", async () => {
  const h = handlingOf(inboxMessage(new TextEncoder().encode("{"), { seq: 42 }));
  await decode()(innerStep<Decoded>())(h);
  assert.is(eventIdOf(h), "JETBUS_INBOX-42");
});

test.run();
