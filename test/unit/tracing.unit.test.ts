import { createRequire } from "node:module";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { childTraceparent, newTraceparent, startEventSpan } from "../../runtime/observability/tracing.ts";

test("a child traceparent keeps the trace id and takes a new span id", () => {
  const parent = newTraceparent();
  assert.match(parent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const child = childTraceparent(parent);
  assert.is(child.split("-")[1], parent.split("-")[1]);
  assert.is.not(child.split("-")[2], parent.split("-")[2]);
});

test("a missing or malformed parent starts a new trace", () => {
  assert.match(childTraceparent(undefined), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.match(childTraceparent("garbage"), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test("without an OpenTelemetry SDK registered, spans are no-ops that never throw", () => {
  // prom-client brings @opentelemetry/api, but no SDK registers a tracer provider here
  const api = createRequire(import.meta.url)("@opentelemetry/api") as {
    trace: { getTracer(n: string): { startSpan(n: string): { isRecording(): boolean } } };
  };
  assert.is(api.trace.getTracer("probe").startSpan("probe").isRecording(), false);
  const span = startEventSpan("handle", { traceparent: newTraceparent(), actor: "a" });
  assert.not.throws(() => span.end(new Error("x")));
});

test.run();
