import { test } from "uvu";
import * as assert from "uvu/assert";
import { headers } from "@nats-io/transport-node";
import { createEvent, decodeEvent, encodeEvent, eventFromJson } from "../../runtime/events/codec.ts";
import { EventTooLargeError, InvalidEventError } from "../../runtime/errors.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

test("binary mode round-trips every attribute", () => {
  const e = createEvent({ type: "UserCreated", data: { user_id: "u1" }, source: "user-service", correlationid: "c-1", causationid: "e-0" });
  const wire = encodeEvent(e);
  assert.is(wire.subject, "events.UserCreated");
  assert.is(wire.headers.get("Nats-Msg-Id"), e.id);
  const { event, form } = decodeEvent({ subject: wire.subject, headers: wire.headers, data: wire.data });
  assert.is(form, "binary");
  assert.equal(event, e);
});

test("correlation id defaults to the event's own id", () => {
  const e = createEvent({ type: "OrderPlaced", data: {} });
  assert.is(e.correlationid, e.id);
  assert.is(e.dataversion, 1);
});

test("structured CloudEvents JSON, by content type and by a body with specversion", () => {
  const doc = {
    specversion: "1.0",
    id: "x1",
    type: "UserCreated",
    source: "crm",
    time: "2026-01-02T03:04:05Z",
    data: { a: 1 },
    correlationid: "c9",
  };
  const h = headers();
  h.set("content-type", "application/cloudevents+json");
  const byHeader = decodeEvent({ subject: "events.UserCreated", headers: h, data: bytes(JSON.stringify(doc)) });
  assert.is(byHeader.form, "structured");
  assert.is(byHeader.event.correlationid, "c9");
  const byBody = decodeEvent({ subject: "events.UserCreated", data: bytes(JSON.stringify(doc)) });
  assert.is(byBody.form, "structured");
  assert.equal(byBody.event.data, { a: 1 });
});

test("raw body: type from subject, id from Nats-Msg-Id, else from the stream position", () => {
  const h = headers();
  h.set("Nats-Msg-Id", "m-1");
  h.set("ce-correlationid", "corr-7");
  const withId = decodeEvent({ subject: "events.UserCreated", headers: h, data: bytes('{"user_id":"u1"}'), seq: 5, stream: "EVENTS" });
  // a ce-correlationid header alone makes it binary mode; the id still comes from Nats-Msg-Id
  assert.is(withId.event.id, "m-1");
  assert.is(withId.event.correlationid, "corr-7");
  const ts = new Date("2026-03-01T00:00:00Z");
  const plain = decodeEvent({ subject: "events.User.Deleted", data: bytes('{"user_id":"u1"}'), seq: 42, stream: "EVENTS", timestamp: ts });
  assert.is(plain.form, "raw");
  assert.is(plain.event.type, "User.Deleted");
  assert.is(plain.event.id, "EVENTS-42");
  assert.is(plain.event.source, "nats");
  assert.is(plain.event.time, ts.toISOString());
  assert.is(plain.event.correlationid, "EVENTS-42");
});

test("raw body with nats-CLI headers: ce-source names the producer, ce-correlationid the flow, Nats-Msg-Id the id", () => {
  const h = headers();
  h.set("Nats-Msg-Id", "cli-1");
  h.set("ce-correlationid", "flow-1");
  h.set("ce-source", "ops-team");
  const { event, form } = decodeEvent({
    subject: "events.UserCreated",
    headers: h,
    data: bytes('{"user_id":"u1"}'),
    seq: 3,
    stream: "EVENTS",
  });
  assert.is(form, "raw");
  assert.equal([event.id, event.correlationid, event.source], ["cli-1", "flow-1", "ops-team"]);
});

test("bad input gives typed errors that name the problem", () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error("expected an error");
  };
  const notJson = err(() => decodeEvent({ subject: "events.A", data: bytes("{oops"), seq: 1 }));
  assert.instance(notJson, InvalidEventError);
  assert.match(notJson.message, /body is not valid JSON/);
  const big = err(() => decodeEvent({ subject: "events.A", data: new Uint8Array(2048), seq: 1 }, { maxBytes: 1024 }));
  assert.instance(big, EventTooLargeError);
  const h = headers();
  h.set("ce-id", "1");
  h.set("ce-time", "yesterday");
  const badTime = err(() => decodeEvent({ subject: "events.A", headers: h, data: bytes("{}") }));
  assert.match(badTime.message, /"time" must be an RFC 3339 timestamp/);
  const h2 = headers();
  h2.set("ce-type", "B");
  const mismatch = err(() => decodeEvent({ subject: "events.A", headers: h2, data: bytes("{}"), seq: 1 }));
  assert.match(mismatch.message, /does not match subject/);
  const h3 = headers();
  h3.set("ce-dataversion", "two");
  h3.set("ce-id", "x");
  assert.match(
    err(() => decodeEvent({ subject: "events.A", headers: h3, data: bytes("{}") })).message,
    /ce-dataversion must be a whole number/,
  );
  assert.match(err(() => decodeEvent({ subject: "events.A", data: bytes("{}") })).message, /has no id/);
  assert.match(err(() => createEvent({ type: "bad type", data: 1 })).message, /event type "bad type" is not valid/);
  assert.match(err(() => eventFromJson({ specversion: "0.3", id: "1", type: "A", source: "s" })).message, /specversion must be "1.0"/);
  const h4 = headers();
  h4.set("content-type", "application/octet-stream");
  assert.match(err(() => decodeEvent({ subject: "events.A", headers: h4, data: bytes("x"), seq: 1 })).message, /unsupported content type/);
});

test("empty body is null data; text/plain is kept as a string", () => {
  assert.is(decodeEvent({ subject: "events.Ping", data: new Uint8Array(0), seq: 3 }).event.data, null);
  const h = headers();
  h.set("content-type", "text/plain");
  assert.is(decodeEvent({ subject: "events.Note", headers: h, data: bytes("hello"), seq: 4 }).event.data, "hello");
});

test.run();
