// The messages the router publishes from a stored event: an inbox copy keeps every CloudEvents
// attribute the actor reads (the entity `subject` of an aggregate's event too), and an unrouted or
// quarantined message keeps the stored headers but not the publisher's Nats-Expected-* guards.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { createEvent, decodeEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { copyMessage, quarantineMessage, unroutedMessage, type StoredEventMsg } from "../../runtime/routing/copies.ts";

const event = createEvent({ type: "MoneyDeposited", data: { amount: 5 }, source: "test", subject: "acct-1" });

test("an inbox copy decodes to the event, its entity subject included", () => {
  const copy = copyMessage(
    { actor: "ticker", rule: "deposits", subject: "actors.ticker.0", ordered: false, direct: false, event },
    7,
    3,
    false,
  );
  // the block as the server hands it to the actor (the client sends these bytes as they are)
  const block = new TextDecoder().decode((copy.headers as unknown as { encode(): Uint8Array }).encode());
  const decoded = decodeEvent({ subject: copy.subject, data: copy.data, headerBlock: block }).event;
  assert.is(decoded.subject, "acct-1");
  assert.is(decoded.id, event.id);
  assert.equal(decoded.data, { amount: 5 });
});

test("unrouted and quarantined messages keep the stored headers, less the Nats-Expected-* guards of an aggregate's append", () => {
  const wire = encodeEvent(event, { subject: "events.@.BankAccount.acct-1.MoneyDeposited" });
  const stored = natsHeaders();
  for (const k of wire.headers.keys()) for (const v of wire.headers.values(k)) stored.append(k, v);
  stored.set("Nats-Expected-Last-Subject-Sequence", "0");
  stored.set("Nats-Expected-Last-Subject-Sequence-Subject", "events.@.BankAccount.acct-1.>");
  const m: StoredEventMsg = { subject: wire.subject, data: wire.data, headers: stored, seq: 12, stream: "EVENTS", timestamp: new Date() };
  for (const out of [unroutedMessage(m, event, 1), quarantineMessage(m, "a reason")]) {
    const h = out.headers as ReturnType<typeof natsHeaders>;
    assert.is(h.get("Nats-Expected-Last-Subject-Sequence"), "", out.subject);
    assert.is(h.get("Nats-Expected-Last-Subject-Sequence-Subject"), "", out.subject);
    assert.is(h.get("ce-subject"), "acct-1", out.subject);
    assert.is(h.get("ce-id"), event.id, out.subject);
  }
});

test.run();
