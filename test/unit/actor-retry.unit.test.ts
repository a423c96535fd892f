import { test } from "uvu";
import * as assert from "uvu/assert";
import { backoffDelayMs, decideFailure, errorCodeOf, isTerminal } from "../../runtime/actor/retry.ts";
import { InvalidEventError, PublishError, SchemaViolationError, TerminalError, TimeoutError } from "../../runtime/errors.ts";

// as loaded: the config's ["100ms", "1s", "5s"] in milliseconds
const retry = { max_attempts: 4, backoff: [100, 1000, 5000] };

test("backoff: the n-th failed attempt waits the n-th delay, and the last delay repeats", () => {
  assert.is(backoffDelayMs(retry.backoff, 1), 100);
  assert.is(backoffDelayMs(retry.backoff, 2), 1000);
  assert.is(backoffDelayMs(retry.backoff, 3), 5000);
  assert.is(backoffDelayMs(retry.backoff, 9), 5000);
  assert.is(backoffDelayMs([250], 1), 250);
});

test("failures are retried until max_attempts, then dead-lettered", () => {
  assert.equal(decideFailure(retry, 1, new Error("x")), { kind: "retry", delayMs: 100 });
  assert.equal(decideFailure(retry, 3, new Error("x")), { kind: "retry", delayMs: 5000 });
  assert.equal(decideFailure(retry, 4, new Error("x")), { kind: "dead-letter", reason: "exhausted" });
  assert.equal(decideFailure({ max_attempts: 1, backoff: [1000] }, 1, new Error("x")), { kind: "dead-letter", reason: "exhausted" });
});

test("terminal errors skip the remaining attempts; other typed errors are retried", () => {
  assert.equal(decideFailure(retry, 1, new TerminalError("no such user")), { kind: "dead-letter", reason: "terminal" });
  assert.ok(isTerminal(new InvalidEventError("bad")));
  assert.ok(isTerminal(new SchemaViolationError("UserCreated", [])));
  assert.ok(isTerminal({ code: "TERMINAL", message: "from another module copy" }));
  assert.not.ok(isTerminal(new TimeoutError("slow")));
  assert.not.ok(isTerminal(new PublishError("refused")), "retryable: false alone does not make an error terminal");
  assert.not.ok(isTerminal(new Error("plain")));
  assert.not.ok(isTerminal(null));
});

test("the recorded error code: a TerminalError's own code, else code, else the class name", () => {
  assert.is(errorCodeOf(new TerminalError("x", { code: "USER_MISSING" })), "USER_MISSING");
  assert.is(errorCodeOf(new TerminalError("x")), "TERMINAL");
  assert.is(errorCodeOf(new TimeoutError("x")), "TIMEOUT");
  assert.is(errorCodeOf(new TypeError("x")), "TypeError");
  assert.is(errorCodeOf("a string"), "ERROR");
});

test.run();
