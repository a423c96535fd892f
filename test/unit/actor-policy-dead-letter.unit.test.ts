import { test } from "uvu";
import * as assert from "uvu/assert";
import { deadLetter, type DeadLetterSink } from "../../runtime/actor/middleware/mod.ts";
import { handlingOf, inboxMessage, innerStep, recordingLogger, sampleEvent } from "../fixtures/handling.ts";

const giveUp = (error: unknown) =>
  innerStep(() => Promise.resolve({ kind: "dead-letter", attempts: 3, error, ran: true, reason: "exhausted" }));

test("dead letter: the letter is stored first, then the original is terminated", async () => {
  const stored: Array<{ eventId: string; attempts: number }> = [];
  const sink: DeadLetterSink = async (_m, o) => void stored.push({ eventId: o.eventId, attempts: o.attempts });
  const e = sampleEvent();
  const h = handlingOf(inboxMessage(e));
  const err = new Error("boom");
  const out = await deadLetter({ enabled: true, sink, logger: recordingLogger().logger, retryDelayMs: 30_000 })(giveUp(err))(h);
  assert.equal(out, { kind: "term", result: "dead_lettered", error: err, ran: true });
  assert.equal(stored, [{ eventId: e.id, attempts: 3 }]);
});

test("dead letter: when the letter cannot be stored the original stays (nak) to try again", async () => {
  const sink: DeadLetterSink = () => Promise.reject(new Error("no stream"));
  const { logger, lines } = recordingLogger();
  const out = await deadLetter({ enabled: true, sink, logger, retryDelayMs: 30_000 })(giveUp(new Error("boom")))(
    handlingOf(inboxMessage(sampleEvent())),
  );
  assert.is(out.kind, "nak");
  assert.is(out.kind === "nak" && out.delayMs, 30_000);
  assert.ok(lines.some((l) => /could not store the dead letter/.test(String(l.msg))));
});

test("dead letter: disabled, the event is terminated and logged as dropped; other outcomes pass through", async () => {
  let called = false;
  const sink: DeadLetterSink = async () => void (called = true);
  const { logger, lines } = recordingLogger();
  const out = await deadLetter({ enabled: false, sink, logger, retryDelayMs: 1 })(giveUp(new Error("boom")))(
    handlingOf(inboxMessage(sampleEvent())),
  );
  assert.is(out.kind === "term" && out.result, "dropped");
  assert.is(called, false);
  assert.ok(lines.some((l) => l.level === 50 && /dropped/.test(String(l.msg))));
  const nak = await deadLetter({ enabled: true, sink, logger, retryDelayMs: 1 })(
    innerStep(() => Promise.resolve({ kind: "nak", delayMs: 7 })),
  )(handlingOf(inboxMessage(sampleEvent())));
  assert.equal(nak, { kind: "nak", delayMs: 7 });
});

test.run();
