import { test } from "uvu";
import * as assert from "uvu/assert";
import { MsgHdrsImpl } from "@nats-io/transport-node";
import { headerOf, readHeaderBlock, readHeaders, statusOf } from "../../runtime/events/headers.ts";
import { createEvent, decodeEvent, encodeEvent } from "../../runtime/events/codec.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

// Blocks as a publisher may send them: the fast reader must agree with the client's own parse.
const blocks: Record<string, string> = {
  "jetbus binary event": new TextDecoder().decode(
    encodeEvent(createEvent({ type: "UserCreated", data: {}, source: "s", causationid: "c" })).headers.encode(),
  ),
  "nats CLI headers, capitalised": "NATS/1.0\r\nNats-Msg-Id: m-1\r\nCe-Source: cli\r\nContent-Type: application/json\r\n\r\n",
  "repeated name keeps its first value": "NATS/1.0\r\nce-id: a\r\nce-id: b\r\n\r\n",
  "a differently cased name comes later and wins": "NATS/1.0\r\nce-id: a\r\nCe-Id: b\r\nce-id: c\r\n\r\n",
  "first cased, then lower, then cased again": "NATS/1.0\r\nCe-Id: b\r\nce-id: a\r\nCe-Id: c\r\n\r\n",
  "values trimmed, colons inside values kept": "NATS/1.0\r\nce-time:   2026-01-01T00:00:00Z  \r\nce-source: urn:a:b\r\n\r\n",
  "unknown names and lines without a colon skipped": "NATS/1.0\r\nX-Other: 1\r\ngarbage\r\nce-type: T\r\n\r\n",
  "status line": "NATS/1.0 503 No Responders\r\nce-id: x\r\n\r\n",
  "empty value": "NATS/1.0\r\nce-causationid:\r\n\r\n",
  "utf-8 value": "NATS/1.0\r\nce-source: caf\u00e9\r\n\r\n",
  "no trailing blank line": "NATS/1.0\r\nce-id: z",
  "names passed over by their first letter (jetbus-*, x-*) and near misses":
    "NATS/1.0\r\njetbus-rule: r\r\nx-ce-id: no\r\nce-idx: no\r\ncontent-typ: no\r\nce-type: T\r\n\r\n",
  "lower-cased nats-msg-id, capitalised Traceparent": "NATS/1.0\r\nnats-msg-id: m\r\nTraceparent: 00-a-b-01\r\n\r\n",
  "values padded with tabs and spaces, no space after the colon":
    "NATS/1.0\r\nce-id:\tx\t\r\nce-type:T\r\nce-source:  s \r\nce-time: \r\n\r\n",
};

for (const [name, block] of Object.entries(blocks)) {
  test(`header block: ${name}`, () => {
    assert.equal(readHeaderBlock(block), readHeaders(MsgHdrsImpl.decode(bytes(block))));
  });
}

test("header block: decodeEvent reads the block instead of parsed headers and gets the same event", () => {
  const e = createEvent({ type: "UserCreated", data: { user_id: "u1" }, source: "svc", correlationid: "c-1", causationid: "e-0" });
  const wire = encodeEvent(e);
  const { event } = decodeEvent({ subject: wire.subject, headerBlock: new TextDecoder().decode(wire.headers.encode()), data: wire.data });
  assert.equal(event, e);
});

test("header block: headerOf finds one header by its exact name, as the client's get() does", () => {
  for (const block of Object.values(blocks)) {
    const parsed = MsgHdrsImpl.decode(bytes(block));
    for (const name of ["Nats-Msg-Id", "ce-id", "Ce-Id", "ce-source", "ce-time", "X-Other", "jetbus-replay"]) {
      const expected = parsed.has(name) ? parsed.get(name) : undefined;
      assert.is(headerOf({ headerBlock: block }, name), expected, `${name} in ${JSON.stringify(block)}`);
      assert.is(headerOf({ headers: parsed }, name), expected);
    }
  }
});

test("header block: statusOf reads the status code of the first line", () => {
  assert.is(statusOf("NATS/1.0\r\nce-id: x\r\n\r\n"), 0);
  assert.is(statusOf("NATS/1.0 404 Message Not Found\r\n\r\n"), 404);
  assert.is(statusOf("NATS/1.0 503\r\n\r\n"), 503);
  assert.is(statusOf("NATS/1.0 408 Request Timeout"), 408);
});

test.run();
