import { test } from "uvu";
import * as assert from "uvu/assert";
import { MsgHdrsImpl } from "@nats-io/transport-node";
import { copyHeadersOf } from "../../runtime/actor/middleware/mod.ts";
import { headerOf } from "../../runtime/events/headers.ts";
import { JetbusHeaders } from "../../runtime/topology.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

// copyHeadersOf reads the jetbus- lines in one pass; headerOf (one header by its exact name) is the reference
const blocks: Record<string, string> = {
  "a first copy: no jetbus headers": "NATS/1.0\r\nce-id: a\r\nce-type: T\r\n\r\n",
  "a routed copy": "NATS/1.0\r\nce-id: a\r\njetbus-origin-seq: 9\r\njetbus-rule: r1\r\njetbus-rev: 4\r\n\r\n",
  "dup-check and replay": "NATS/1.0\r\njetbus-dup-check: 1\r\njetbus-replay: run-7\r\njetbus-rule: r2\r\n\r\n",
  "dup-check with an empty value still counts": "NATS/1.0\r\njetbus-dup-check:\r\n\r\n",
  "a repeated name keeps its first value": "NATS/1.0\r\njetbus-rule: first\r\njetbus-rule: second\r\n\r\n",
  "jetbus- inside another header's value is no header": "NATS/1.0\r\nx-note: see jetbus-rule: no\r\nce-id: a\r\n\r\n",
  "a jetbus- line without a colon is skipped": "NATS/1.0\r\njetbus-rule\r\njetbus-replay: r\r\n\r\n",
  "the last line without CRLF": "NATS/1.0\r\nce-id: a\r\njetbus-replay:  run-9 ",
  "names in another case are other headers (exact match, as the client's get())":
    "NATS/1.0\r\nJetbus-Rule: x\r\nJETBUS-DUP-CHECK: 1\r\n\r\n",
};

function reference(w: Parameters<typeof headerOf>[0]) {
  return {
    rule: headerOf(w, JetbusHeaders.Rule),
    dupCheck: headerOf(w, JetbusHeaders.DupCheck) !== undefined,
    replay: headerOf(w, JetbusHeaders.Replay),
  };
}

for (const [name, block] of Object.entries(blocks)) {
  test(`copy headers: ${name}`, () => {
    const fromBlock = copyHeadersOf({ subject: "s", data: new Uint8Array(), headerBlock: block });
    assert.equal(fromBlock, reference({ headerBlock: block }), "the block read agrees with headerOf");
    const parsed = MsgHdrsImpl.decode(bytes(block));
    const fromParsed = copyHeadersOf({ subject: "s", data: new Uint8Array(), headers: parsed });
    assert.equal(fromParsed, fromBlock, "parsed headers (no block) give the same answer");
  });
}

test("copy headers: the values a routed dead-letter replay copy carries", () => {
  const c = copyHeadersOf({ subject: "s", data: new Uint8Array(), headerBlock: blocks["dup-check and replay"] });
  assert.equal(c, { rule: "r2", dupCheck: true, replay: "run-7" });
});

test("copy headers: a message without headers has none", () => {
  assert.equal(copyHeadersOf({ subject: "s", data: new Uint8Array() }), { rule: undefined, dupCheck: false, replay: undefined });
});

test.run();
