import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Msg } from "@nats-io/transport-node";
import { AnswerKind, readPublishAnswer } from "../../runtime/store/publish-answer.ts";

const answer = (text: string) => readPublishAnswer({ data: new TextEncoder().encode(text), headers: undefined } as unknown as Msg, "s");

test("plain acks are read from their bytes, as JSON would read them", () => {
  assert.equal(answer('{"stream":"EVENTS","seq":42}'), { kind: AnswerKind.Acked, ack: { stream: "EVENTS", seq: 42, duplicate: false } });
  assert.equal(answer('{"stream":"JETBUS_INBOX","seq":9007199254740991,"duplicate":true}'), {
    kind: AnswerKind.Acked,
    ack: { stream: "JETBUS_INBOX", seq: 9007199254740991, duplicate: true },
  });
});

test("any other layout is read as JSON: a domain, spaces, an error", () => {
  assert.equal(answer('{"stream":"EVENTS","domain":"hub","seq":7}'), {
    kind: AnswerKind.Acked,
    ack: { stream: "EVENTS", seq: 7, duplicate: false },
  });
  assert.equal(answer('{"stream": "EVENTS", "seq": 8}'), { kind: AnswerKind.Acked, ack: { stream: "EVENTS", seq: 8, duplicate: false } });
  const wrong = answer('{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 1"},"stream":"JETBUS_INDEX","seq":0}');
  assert.is(wrong.kind, AnswerKind.Refused);
  const refused = answer('{"stream":"X","seq":3,"duplicate":false}');
  assert.equal(refused, { kind: AnswerKind.Acked, ack: { stream: "X", seq: 3, duplicate: false } });
  assert.is(answer('{"stream":"X","seq":}').kind, AnswerKind.Refused, "unreadable");
});

test("stream names kept from earlier answers never stand in for another name", () => {
  // same length (JETBUS_INBOX/JETBUS_INDEX alternate on the router), more names than kept slots, and back again
  const names = ["JETBUS_INBOX", "JETBUS_INDEX", "JETBUS_INBOX", "A", "B", "CC", "DD", "EE", "JETBUS_INDEX", "A", "JETBUS_INBOY"];
  names.forEach((name, seq) => {
    assert.equal(answer(`{"stream":"${name}","seq":${seq + 1}}`), {
      kind: AnswerKind.Acked,
      ack: { stream: name, seq: seq + 1, duplicate: false },
    });
  });
  assert.equal(answer('{"stream":"JETBUS_INBOX_LONGER","seq":5,"duplicate":true}'), {
    kind: AnswerKind.Acked,
    ack: { stream: "JETBUS_INBOX_LONGER", seq: 5, duplicate: true },
  });
});

test.run();
