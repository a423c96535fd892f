import { test } from "uvu";
import * as assert from "uvu/assert";
import { retry } from "../../runtime/actor/middleware/mod.ts";
import { TerminalError } from "../../runtime/errors.ts";
import { handlingOf, inboxMessage, innerStep, sampleEvent } from "../fixtures/handling.ts";

// as loaded: the config's ["1s", "5s"] in milliseconds
const settings = { max_attempts: 3, backoff: [1000, 5000] };
const failing = (err: unknown) => innerStep(() => Promise.reject(err));

test("retry: a failure with attempts left is naked with the schedule's delay (last entry repeats)", async () => {
  const err = new Error("boom");
  const first = await retry(settings)(failing(err))(handlingOf(inboxMessage(sampleEvent(), { deliveryCount: 1 })));
  assert.equal(first, { kind: "nak", delayMs: 1000, error: err, ran: true, next: "retry in 1000 ms" });
  const second = await retry({ max_attempts: 5, backoff: [1000, 5000] })(failing(err))(
    handlingOf(inboxMessage(sampleEvent(), { deliveryCount: 3 })),
  );
  assert.is(second.kind === "nak" && second.delayMs, 5000);
});

test("retry: the last attempt and a terminal error go to the dead letters", async () => {
  const last = await retry(settings)(failing(new Error("boom")))(handlingOf(inboxMessage(sampleEvent(), { deliveryCount: 3 })));
  assert.is(last.kind === "dead-letter" && last.reason, "exhausted");
  assert.is(last.kind === "dead-letter" && last.attempts, 3);
  const terminal = await retry(settings)(failing(new TerminalError("no such user")))(
    handlingOf(inboxMessage(sampleEvent(), { deliveryCount: 1 })),
  );
  assert.is(terminal.kind === "dead-letter" && terminal.reason, "terminal");
});

test("retry: a delivery past max_attempts (earlier attempts never answered) is dead-lettered without running", async () => {
  const inner = innerStep();
  const out = await retry(settings)(inner)(handlingOf(inboxMessage(sampleEvent(), { deliveryCount: 4 })));
  assert.is(out.kind, "dead-letter");
  assert.is(out.kind === "dead-letter" && out.attempts, 3);
  assert.is(out.kind === "dead-letter" && out.ran, undefined);
  assert.is(inner.calls.length, 0);
});

test("retry: success passes through", async () => {
  assert.equal(await retry(settings)(innerStep())(handlingOf(inboxMessage(sampleEvent()))), { kind: "ack", result: "handled" });
});

test.run();
