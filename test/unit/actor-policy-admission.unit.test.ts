import { test } from "uvu";
import * as assert from "uvu/assert";
import { storeAdmission } from "../../runtime/actor/middleware/mod.ts";
import { SchemaViolationError } from "../../runtime/errors.ts";
import type { Event } from "../../runtime/events/types.ts";
import { handlingOf, inboxMessage, innerStep, sampleEvent } from "../fixtures/handling.ts";

/** Refuses data without user_id, as a compiled event schema would. */
const schemas = {
  checkEvent(event: Event) {
    if (!(event.data as { user_id?: string } | null)?.user_id)
      throw new SchemaViolationError(event.type, [{ path: "user_id", message: "is required" }]);
  },
};

test("admission: a direct actor's store delivery that passes its schema reaches the inner steps", async () => {
  const inner = innerStep();
  const out = await storeAdmission(schemas)(inner)(handlingOf(inboxMessage(sampleEvent({ user_id: "u1" }), { stream: "EVENTS" })));
  assert.equal(out, { kind: "ack", result: "handled" });
  assert.is(inner.calls.length, 1);
});

test("admission: a store delivery the router quarantines (schema, undecodable) is acked unhandled", async () => {
  for (const msg of [
    inboxMessage(sampleEvent({ name: "no id" }), { stream: "EVENTS" }),
    inboxMessage(new TextEncoder().encode("not json"), { stream: "EVENTS" }),
  ]) {
    const inner = innerStep();
    const out = await storeAdmission(schemas)(inner)(handlingOf(msg));
    assert.equal(out, { kind: "ack", result: "not_admitted" });
    assert.is(inner.calls.length, 0);
  }
});

test("admission: inbox deliveries (already admitted by the router) pass unchecked", async () => {
  const inner = innerStep();
  const out = await storeAdmission(schemas)(inner)(handlingOf(inboxMessage(sampleEvent({ name: "no id" }))));
  assert.equal(out, { kind: "ack", result: "handled" });
  assert.is(inner.calls.length, 1);
});

test.run();
