import { test } from "uvu";
import * as assert from "uvu/assert";
import { failureLog } from "../../runtime/actor/middleware/mod.ts";
import { handlingOf, inboxMessage, innerStep, recordingLogger, sampleEvent } from "../fixtures/handling.ts";

function buggyHandler(): never {
  const user = undefined as unknown as { name: string };
  user.name.toUpperCase();
  throw new Error("unreachable");
}

test("failure log: one error-level line with the stack (a TypeError names its file and line), the attempt and what comes next", async () => {
  let thrown: unknown;
  try {
    buggyHandler();
  } catch (err) {
    thrown = err;
  }
  const { logger, lines } = recordingLogger();
  const e = sampleEvent();
  const h = handlingOf(inboxMessage(e, { deliveryCount: 2 }));
  await failureLog(
    logger,
    5,
  )(innerStep(() => Promise.resolve({ kind: "nak", delayMs: 5000, error: thrown, ran: true, next: "retry in 5000 ms" })))(h);
  assert.is(lines.length, 1);
  const l = lines[0]!;
  assert.is(l.level, 50);
  assert.is(l.msg, "handler failed");
  assert.is(l.eventId, e.id);
  assert.is(l.eventType, "UserCreated");
  assert.is(l.correlationId, "flow-1");
  assert.is(l.attempt, 2);
  assert.is(l.maxAttempts, 5);
  assert.is(l.next, "retry in 5000 ms");
  assert.is(l.code, "TypeError");
  const err = l.err as { type: string; stack: string };
  assert.is(err.type, "TypeError");
  assert.match(err.stack, /actor-policy-failure-log\.unit\.test\.ts:\d+/);
});

test("failure log: dead letters say why; successes, duplicates and marker-read retries log nothing", async () => {
  const { logger, lines } = recordingLogger();
  const h = handlingOf(inboxMessage(sampleEvent()));
  await failureLog(
    logger,
    3,
  )(innerStep(() => Promise.resolve({ kind: "dead-letter", attempts: 3, error: new Error("x"), ran: true, reason: "exhausted" })))(h);
  assert.is(lines[0]!.next, "dead-letter (exhausted)");
  await failureLog(logger, 3)(innerStep())(h);
  await failureLog(logger, 3)(innerStep(() => Promise.resolve({ kind: "ack", result: "duplicate" })))(h);
  await failureLog(logger, 3)(innerStep(() => Promise.resolve({ kind: "nak", delayMs: 1000 })))(h);
  assert.is(lines.length, 1);
});

test.run();
