// With an OpenTelemetry SDK registered (the SDK's in-memory exporter), one event through the
// store, the router and an actor is one trace: publish -> route -> handle -> publish of the
// follow-up, each span the parent of the next; a failing handling records its error.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startServices, type Services } from "../../runtime/app/services.ts";
import { EventBus } from "../../runtime/store/mod.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, type ProbeData } from "../fixtures/probe-handler.ts";
import { probeConfig, testRuntime } from "../fixtures/actor-harness.ts";
import type { Runtime } from "../../runtime/app/bootstrap.ts";

const exporter = new InMemorySpanExporter();
let env: Awaited<ReturnType<typeof startServer>>;
let rt: Runtime;
let services: Services;

test.before(async () => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  env = await startServer();
  await ensureLogStream(env.nc);
  const config = probeConfig([{ name: "traced" }]);
  const withRoutes = {
    ...config,
    routes: { mode: "all-matches" as const, rules: [{ name: "probes", match: { type: "ProbeHappened" }, to: ["traced"] }] },
  };
  rt = await testRuntime(env.server.url, withRoutes as typeof config, "test-tracing");
  services = await startServices(rt);
});
test.after(async () => {
  await services?.stop(0).catch(() => undefined);
  await rt?.dispose();
  await env?.stop();
  trace.disable();
});

const spansNamed = (name: string, eventId?: string) =>
  exporter.getFinishedSpans().filter((s) => s.name === name && (!eventId || s.attributes["jetbus.event.id"] === eventId));
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

test("publish -> route -> handle -> follow-up publish are one trace, each span the parent of the next", async () => {
  const bus = new EventBus(rt.nc);
  const { id } = await bus.publish("ProbeHappened", { n: 1, follow_up: "ProbeFollowed" } satisfies ProbeData);
  await bus.close();
  const [publish] = spansNamed("publish ProbeHappened", id);
  assert.ok(publish, "a producer span for the publish");
  const handle = await waitFor(() => spansNamed("handle ProbeHappened", id)[0] ?? null, "the handle span", 30_000);
  const route = spansNamed("route ProbeHappened", id)[0]!;
  assert.ok(route, "a span for routing the event");
  const followUp = await waitFor(() => spansNamed("publish ProbeFollowed")[0] ?? null, "the follow-up's publish span", 30_000);
  const traceId = publish!.spanContext().traceId;
  for (const s of [route, handle, followUp]) assert.is(s.spanContext().traceId, traceId, `${s.name} in the publisher's trace`);
  assert.is(parentOf(route), publish!.spanContext().spanId, "route's parent is the publish span (from the stored traceparent)");
  assert.is(parentOf(handle), route.spanContext().spanId, "handle's parent is the route span (from the inbox copy's traceparent)");
  assert.is(parentOf(followUp), handle.spanContext().spanId, "the follow-up's publish span is a child of the handling that published it");
  assert.is(publish!.kind, 3 /* PRODUCER */);
  assert.is(handle.kind, 4 /* CONSUMER */);
  assert.is(handle.attributes["jetbus.actor"], "traced");
  assert.is(handle.status.code, 0, "a successful handling leaves the status unset");
});

test("a failing handling ends its span with the error, and its retry is a second handle span in the same trace", async () => {
  const bus = new EventBus(rt.nc);
  const { id } = await bus.publish("ProbeHappened", { n: 2, fail_times: 1 } satisfies ProbeData);
  await bus.close();
  const handles = await waitFor(
    () => {
      const s = spansNamed("handle ProbeHappened", id);
      return s.length === 2 ? s : null;
    },
    "two handle spans (failure, then retry)",
    30_000,
  );
  const failed = handles.find((s) => s.attributes["jetbus.attempt"] === 1)!;
  const retried = handles.find((s) => s.attributes["jetbus.attempt"] === 2)!;
  assert.is(failed.status.code, 2 /* ERROR */);
  assert.match(String(failed.status.message), /planned failure 1/);
  assert.ok(
    failed.events.some((e) => e.name === "exception"),
    "the exception is recorded on the span",
  );
  assert.is(retried.status.code, 0);
  assert.is(failed.spanContext().traceId, retried.spanContext().traceId);
});

test.run();
