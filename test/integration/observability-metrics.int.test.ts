// Scrapes a running process's /metrics, /healthz and /readyz after causing a known set of
// outcomes, and checks the counters show exactly those counts; also checks the failure log lines.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import pino from "pino";
import { startRuntime, type Runtime } from "../../runtime/app/bootstrap.ts";
import { startServices, type Services } from "../../runtime/app/services.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { listDeadLetters } from "../../runtime/actor/mod.ts";
import { EventBus } from "../../runtime/store/mod.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { sampleValue } from "../helpers/prometheus.ts";
import { ensureLogStream, readLog, type ProbeData } from "../fixtures/probe-handler.ts";

const ACTOR = "metered";

let env: Awaited<ReturnType<typeof startServer>>;
let rt: Runtime;
let services: Services | undefined;
const logLines: Array<Record<string, unknown>> = [];

test.before(async () => {
  env = await startServer();
  await ensureLogStream(env.nc);
  const config = configFrom({
    actors: [{ name: ACTOR, handler: "probe", retry: { max_attempts: 3, backoff: ["50ms"] } }],
    routes: { mode: "all-matches", rules: [{ name: "probes", match: { type: "ProbeHappened" }, to: [ACTOR] }] },
  });
  // the process's real log records, as JSON objects, to check what a failure logs
  const logger = pino({ level: "info" }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  rt = await startRuntime({ config, servers: env.server.url, logger, name: "test-metrics" });
});
test.after(async () => {
  await services?.stop(0).catch(() => undefined);
  await rt?.dispose();
  await env?.stop();
});

const scrape = async (base: string) => (await fetch(`${base}/metrics`)).text();

test("metrics show exactly the handled, failed, retried, dead-lettered, routed, unrouted and quarantined counts; health endpoints answer", async () => {
  services = await startServices(rt, { http: true });
  const base = `http://127.0.0.1:${services.http!.port}`;
  assert.is((await fetch(`${base}/healthz`)).status, 200);
  assert.is((await fetch(`${base}/readyz`)).status, 200, "ready once consumers are bound");

  // 3 succeed at once, 1 fails twice (a TypeError: a bug) then succeeds, 1 fails terminally (dead letter)
  const bus = new EventBus(rt.nc);
  const probes: ProbeData[] = [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3, fail_times: 2, type_error: true }, { n: 4, terminal: true }];
  const published = await Promise.all(probes.map((d, i) => bus.publish("ProbeHappened", d, { correlationId: `metrics-flow-${i}` })));
  // no rule routes this type: one unrouted event
  await bus.publish("NobodyListens", { n: 5 });
  await bus.close();
  // not JSON at all, as a careless `nats pub` would send: the router quarantines it
  rt.nc.publish("events.Garbage", new TextEncoder().encode("this is not json"));

  const series = { actor: ACTOR, type: "ProbeHappened", rule: "probes" };
  const expected: Array<[string, Record<string, string>, number]> = [
    // how each event ended, once per event, by type and the rule that routed it
    ["jetbus_handlings_total", { ...series, outcome: "handled" }, 4],
    ["jetbus_handlings_total", { ...series, outcome: "dead_lettered" }, 1],
    // every run of the handler, apart from the events: 4 ok, 2 TypeErrors, 1 terminal error with its code
    ["jetbus_handling_attempts_total", { ...series, outcome: "ok", code: "" }, 4],
    ["jetbus_handling_attempts_total", { ...series, outcome: "error", code: "TypeError" }, 2],
    ["jetbus_handling_attempts_total", { ...series, outcome: "error", code: "USER_MISSING" }, 1],
    // every attempt is timed, successful or not
    ["jetbus_handler_duration_seconds_count", { actor: ACTOR, type: "ProbeHappened" }, 7],
    // buckets reach the default handler timeout (5m)
    ["jetbus_handler_duration_seconds_bucket", { actor: ACTOR, type: "ProbeHappened", le: "300" }, 7],
    ["jetbus_router_routed_total", { actor: ACTOR }, 5],
    ["jetbus_router_unrouted_total", {}, 1],
    ["jetbus_router_quarantined_total", {}, 1],
    ["jetbus_indexer_indexed_total", {}, 6],
    ["jetbus_malformed_total", { component: "router" }, 1],
    // nothing left to do: the durables' lag, read from NATS at scrape time
    ["jetbus_consumer_pending", { consumer: ACTOR, actor: ACTOR }, 0],
    ["jetbus_consumer_pending", { consumer: "jetbus-router" }, 0],
  ];
  // a miss names the series and what it read (waitFor reports the last one)
  const reached = (text: string) => {
    const off = expected
      .map(([name, labels, value]) => [name, labels, value, sampleValue(text, name, labels)] as const)
      .filter(([, , value, got]) => got !== value);
    if (off.length) throw new Error(off.map(([n, l, v, g]) => `${n}${JSON.stringify(l)}: ${String(g)}, not ${v}`).join("; "));
    return true;
  };
  await waitFor(async () => reached(await scrape(base)), "every counter to reach the caused count", 30_000);
  // the lag gauge says the inbox is drained, so nothing can still move a counter: a later scrape must agree exactly
  const text = await scrape(base);
  for (const [name, labels, value] of expected) assert.is(sampleValue(text, name, labels), value, `${name}${JSON.stringify(labels)}`);
  assert.ok((sampleValue(text, "jetbus_handler_duration_seconds_sum", { actor: ACTOR, type: "ProbeHappened" }) ?? -1) >= 0);
  assert.match(text, /# TYPE jetbus_handler_duration_seconds histogram/);
  assert.match(text, /# TYPE jetbus_consumer_pending gauge/);

  // the counters agree with the facts in NATS
  const dead = await listDeadLetters(rt.nc, { actor: ACTOR });
  assert.equal(
    dead.map((d) => d.eventId),
    [published[4]!.id],
  );
  const ends = (await readLog(env.nc)).filter((l) => l.actor === ACTOR && l.phase === "end");
  assert.is(ends.length, 4);

  // one structured line per failed handling, with everything an operator greps for
  const failures = logLines.filter((l) => l.msg === "handler failed");
  const seen = failures.map((l) => `${l.eventId}#${l.attempt}`).sort();
  assert.equal(seen, [`${published[3]!.id}#1`, `${published[3]!.id}#2`, `${published[4]!.id}#1`].sort());
  for (const l of failures) {
    assert.is(l.actor, ACTOR);
    assert.is(l.eventType, "ProbeHappened");
    assert.is(l.correlationId, l.eventId === published[3]!.id ? "metrics-flow-3" : "metrics-flow-4");
    assert.is(l.level, 50, "logged as an error");
    const err = l.err as { type?: string; message?: string; stack?: string } | undefined;
    assert.ok(err?.stack, "the failure line carries the error's stack");
  }
  // a bug in the handler shows where it is: the TypeError's stack names the handler's file and line
  for (const l of failures.filter((x) => x.eventId === published[3]!.id)) {
    const err = l.err as { type: string; stack: string };
    assert.is(err.type, "TypeError");
    assert.match(err.stack, /probe-handler\.ts:\d+/);
    assert.is(l.code, "TypeError");
  }
  assert.match(String(failures.find((l) => l.eventId === published[4]!.id)?.next), /dead-letter/);
});

test("readyz answers 503 from the moment a stop begins, while in-flight work drains", async () => {
  const base = `http://127.0.0.1:${services!.http!.port}`;
  const bus = new EventBus(rt.nc);
  const slow = await bus.publish("ProbeHappened", { n: 6, delay_ms: 1500 } satisfies ProbeData);
  await bus.close();
  await waitFor(
    async () => (await readLog(env.nc)).some((l) => l.eventId === slow.id && l.phase === "start"),
    "the slow event to be in flight",
  );
  const stopping = services!.stop(20_000);
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, "readyz to turn 503 while draining");
  assert.is((await fetch(`${base}/healthz`)).status, 200, "still alive while draining");
  await stopping;
  services = undefined;
  assert.ok(
    (await readLog(env.nc)).some((l) => l.eventId === slow.id && l.phase === "end"),
    "the in-flight event finished before the stop returned",
  );
});

test.run();
