import { test } from "uvu";
import * as assert from "uvu/assert";
import { handlingMetrics, type Settled } from "../../runtime/actor/middleware/mod.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { TerminalError } from "../../runtime/errors.ts";
import { inboxMessage, innerStep, sampleEvent, screenedOf } from "../fixtures/handling.ts";
import { sampleValue } from "../helpers/prometheus.ts";

async function run(m: Metrics, out: Settled, handlerMs?: number) {
  const h = screenedOf(inboxMessage(sampleEvent(), { headers: { "jetbus-rule": "users" } }));
  if (handlerMs !== undefined) h.ran(handlerMs);
  await handlingMetrics(m, "a")(innerStep(async () => out))(h);
}

test("metrics: handlings (once per event, by outcome) and attempts (once per handler run, with the error code) are counted apart", async () => {
  const m = new Metrics();
  const s = { actor: "a", type: "UserCreated", rule: "users" };
  await run(m, { kind: "nak", delayMs: 1, error: new Error("x"), ran: true }, 3);
  await run(m, { kind: "ack", result: "handled" }, 2);
  await run(m, { kind: "term", result: "dead_lettered", error: new TerminalError("gone", { code: "USER_MISSING" }), ran: true }, 1);
  await run(m, { kind: "ack", result: "duplicate" });
  await run(m, { kind: "nak", delayMs: 1000 }); // marker unreadable: no handler run, nothing settled
  await run(m, { kind: "ack", result: "handled" }, 4000); // 4 s: the 5 s bucket, not the 2.5 s one
  await run(m, { kind: "leave" });
  const text = await m.registry.metrics();
  assert.is(sampleValue(text, "jetbus_handlings_total", { ...s, outcome: "dead_lettered" }), 1);
  assert.is(sampleValue(text, "jetbus_handlings_total", { ...s, outcome: "duplicate" }), 1);
  assert.is(sampleValue(text, "jetbus_handling_attempts_total", { ...s, outcome: "ok", code: "" }), 2);
  assert.is(sampleValue(text, "jetbus_handling_attempts_total", { ...s, outcome: "error", code: "Error" }), 1);
  assert.is(sampleValue(text, "jetbus_handling_attempts_total", { ...s, outcome: "error", code: "USER_MISSING" }), 1);
  assert.is(sampleValue(text, "jetbus_handlings_total", { ...s, outcome: "handled" }), 2);
  assert.is(sampleValue(text, "jetbus_handler_duration_seconds_count", { actor: "a", type: "UserCreated" }), 4);
  assert.is(sampleValue(text, "jetbus_handler_duration_seconds_bucket", { actor: "a", type: "UserCreated", le: "300" }), 4);
  assert.is(sampleValue(text, "jetbus_handler_duration_seconds_bucket", { actor: "a", type: "UserCreated", le: "2.5" }), 3);
  assert.is(sampleValue(text, "jetbus_handler_duration_seconds_bucket", { actor: "a", type: "UserCreated", le: "5" }), 4);
  assert.is(sampleValue(text, "jetbus_handler_duration_seconds_bucket", { actor: "a", type: "UserCreated", le: "+Inf" }), 4);
  assert.is(sampleValue(text, "jetbus_handler_duration_seconds_sum", { actor: "a", type: "UserCreated" }), 4.006);
  assert.match(text, /# TYPE jetbus_handler_duration_seconds histogram/);
});

test.run();
