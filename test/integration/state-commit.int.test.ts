import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import type { ActorContext, HandlerFn } from "../../runtime/actor/types.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { tokenFor } from "../../runtime/events/subjects.ts";
import type { Event } from "../../runtime/events/types.ts";
import { SchemaViolationError } from "../../runtime/errors.ts";
import { createLogger } from "../../runtime/log.ts";
import { StateSchemas } from "../../runtime/actor/state/schema.ts";
import { statefulHandler } from "../../runtime/actor/state/stateful.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { TimerRelay } from "../../runtime/actor/state/timer-relay.ts";
import { Timers } from "../../runtime/actor/state/timers.ts";
import type { StatefulHandleFn, StateSpec } from "../../runtime/actor/state/types.ts";
import { EventBus, EventStore } from "../../runtime/store/mod.ts";
import { ensureEventStream } from "../../runtime/store/stream.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let env: Awaited<ReturnType<typeof startServer>>;
let bus: EventBus;
let timers: Timers;
let relay: TimerRelay;
const logger = createLogger({ level: "silent" });

test.before(async () => {
  env = await startServer();
  await ensureEventStream(await jetstreamManager(env.nc), configFrom({}).store);
  bus = new EventBus(env.nc);
  timers = await Timers.open(env.nc, { replicas: 1 });
  relay = new TimerRelay(env.nc, (e) => bus.publishEvent(e), logger);
  await relay.start();
});
test.after(async () => {
  await relay?.stop();
  await env?.stop();
});

function ctxFor(replica = "r1"): ActorContext {
  return {
    actor: "counter",
    replica,
    deliveryCount: 1,
    streamSeq: 1,
    options: {},
    logger,
    publish: () => Promise.reject(new Error("not here")),
    working: () => undefined,
    signal: new AbortController().signal,
  };
}

const counterSpec: StateSpec<{ n: number }> = { key: "data.key", initial: { n: 0 } };

async function counter(
  actor: string,
  handle: StatefulHandleFn<{ n: number }>,
  schemas?: StateSchemas,
): Promise<{ run: HandlerFn; store: StateStore }> {
  const store = await StateStore.open(env.nc, actor, { replicas: 1 });
  const run = statefulHandler(counterSpec, handle, {
    actor,
    store,
    timers,
    publishEvent: (e) => bus.publishEvent(e),
    markerTtlMs: 3_600_000,
    schemas,
  });
  return { run, store };
}

const increment: StatefulHandleFn<{ n: number }> = async (_e, ctx) => ctx.state.set({ n: ctx.state.get().n + 1 });
const ev = (key: string, id?: string): Event => createEvent({ type: "Counted", data: { key }, id });

/** Stored events of a type with this id (the indexer does not run here: read by type). */
async function stored(type: string, id: string) {
  return (await new EventStore(env.nc).getByType(type, { limit: 1000 })).map((s) => s.event).filter((e) => e.id === id);
}

test("each event changes its key's state once; the same event again is skipped by its marker", async () => {
  const { run, store } = await counter("count-a", increment);
  const events = Array.from({ length: 20 }, (_, i) => ev(`k${i % 4}`));
  for (const e of events) await run(e, ctxFor());
  for (const e of events.slice(0, 5)) await run(e, ctxFor());
  for (let k = 0; k < 4; k++) assert.equal((await store.read(`k${k}`)).value, { n: 5 });
  assert.equal(await store.keys(), ["k0", "k1", "k2", "k3"]);
  const history = await store.history("k0");
  assert.is(history.length, 5);
  assert.equal(
    history.map((h) => h.eventId),
    events.filter((_, i) => i % 4 === 0).map((e) => e.id),
  );
});

test("two replicas handling the same event at once: both run, one commits, the state moves once", async () => {
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { run, store } = await counter("count-b", async (_e, ctx) => {
    runs++;
    const n = ctx.state.get().n;
    await gate; // both handlings have read revision 0 before either commits
    ctx.state.set({ n: n + 1 });
  });
  const e = ev("same");
  const both = Promise.all([run(e, ctxFor("r1")), run(e, ctxFor("r2"))]);
  await waitFor(() => runs === 2, "both handlings to start");
  release();
  await both;
  assert.equal((await store.read("same")).value, { n: 1 });
});

test("two events of one key committed concurrently: the loser runs again on fresh state (no lost update)", async () => {
  let arrived = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { run, store } = await counter("count-c", async (_e, ctx) => {
    const n = ctx.state.get().n;
    arrived++;
    if (arrived <= 2) await gate;
    ctx.state.set({ n: n + 1 });
  });
  const both = Promise.all([run(ev("hot"), ctxFor("r1")), run(ev("hot"), ctxFor("r2"))]);
  await waitFor(() => arrived === 2, "both handlings to read the state");
  release();
  await both;
  assert.equal((await store.read("hot")).value, { n: 2 });
  assert.is(arrived, 3, "exactly one handling ran again");
});

test("follow-ups are published once, after the commit; a crash after the commit finishes them on redelivery", async () => {
  const { run, store } = await counter("count-d", async (e, ctx) => {
    ctx.state.set({ n: 1 });
    await ctx.publish("CountedTwice", { of: e.id });
  });
  const e = ev("f1");
  await run(e, ctxFor());
  await run(e, ctxFor());
  const [follow, ...more] = await stored("CountedTwice", `${e.id}:e1`);
  assert.equal(follow!.data, { of: e.id });
  assert.is(more.length, 0);
  assert.is(follow!.causationid, e.id);
  // a handling that committed and died before its flush: only the marker and state exist
  const crashed = ev("f2");
  const outbox = [
    { kind: "event" as const, event: createEvent({ type: "CountedTwice", data: { of: crashed.id }, id: `${crashed.id}:e1` }) },
  ];
  await store.commit({
    eventToken: tokenFor(crashed.id),
    eventId: crashed.id,
    key: "f2",
    revision: 0,
    change: { kind: "set", value: { n: 1 } },
    marker: { at: new Date().toISOString(), replica: "dead", key: "f2", outbox },
    markerTtlMs: 60_000,
  });
  await run(crashed, ctxFor());
  assert.equal(
    (await stored("CountedTwice", `${crashed.id}:e1`)).map((x) => x.data),
    [{ of: crashed.id }],
  );
  assert.equal((await store.read("f2")).value, { n: 1 }, "the handler did not run again");

  // a crash between the state write and the marker write: the state message answers for the marker
  const between = ev("f3");
  const betweenOutbox = [
    { kind: "event" as const, event: createEvent({ type: "CountedTwice", data: { of: between.id }, id: `${between.id}:e1` }) },
  ];
  await store.commit({
    eventToken: tokenFor(between.id),
    eventId: between.id,
    key: "f3",
    revision: 0,
    change: { kind: "set", value: { n: 1 } },
    marker: { at: new Date().toISOString(), replica: "dead", key: "f3", outbox: betweenOutbox },
    markerTtlMs: 60_000,
  });
  const jsm = await jetstreamManager(env.nc);
  await jsm.streams.purge("KV_jetbus-state-count-d", { filter: `$KV.jetbus-state-count-d.m.${tokenFor(between.id)}` });
  assert.is(await store.marker(tokenFor(between.id)), null, "only the state message is left");
  await run(between, ctxFor());
  assert.equal((await store.read("f3")).value, { n: 1 }, "the handler did not run again");
  assert.ok(await store.marker(tokenFor(between.id)), "the redelivery wrote the missing marker");
  assert.equal(
    (await stored("CountedTwice", `${between.id}:e1`)).map((x) => x.data),
    [{ of: between.id }],
  );
});

test("a commit that finds no stream answering (an election, lost routes) waits for it instead of failing the handling", async () => {
  let ran = 0;
  const { run, store } = await counter("count-h", async (_e, ctx) => {
    ran++;
    ctx.state.set({ n: ctx.state.get().n + 1 });
  });
  const jsm = await jetstreamManager(env.nc);
  await jsm.streams.delete("KV_jetbus-state-count-h"); // its subjects now have no responder at all
  const handled = run(ev("gone"), ctxFor());
  handled.catch(() => undefined); // awaited below
  await waitFor(() => ran === 1, "the handler to run and its commit to start");
  await StateStore.open(env.nc, "count-h", { replicas: 1 });
  await handled;
  assert.equal((await store.read("gone")).value, { n: 1 });
  assert.is(ran, 1);
});

test("an outbox too large for a header is committed with the state by one atomic batch, and still counted once", async () => {
  const big = "x".repeat(20_000);
  const { run, store } = await counter("count-g", async (e, ctx) => {
    ctx.state.set({ n: ctx.state.get().n + 1 });
    await ctx.publish("Bulky", { of: e.id, big });
  });
  const e = ev("b1");
  await run(e, ctxFor());
  const read = await store.read("b1");
  assert.equal(read.value, { n: 1 });
  assert.is(read.writtenBy?.eventId, e.id);
  assert.is(read.writtenBy?.marker, undefined, "the marker is not in the state message's headers");
  assert.ok(await store.marker(tokenFor(e.id)), "the marker was written with the state");
  await run(e, ctxFor());
  assert.equal((await store.read("b1")).value, { n: 1 }, "the redelivery is skipped");
  assert.is((await stored("Bulky", `${e.id}:e1`)).length, 1);
});

test("a timer fires once as an event in the store; a cancelled timer never fires", async () => {
  const ids: Record<string, string> = {};
  const { run } = await counter("count-e", async (e, ctx) => {
    const d = e.data as { key: string; cancel?: string };
    if (d.cancel) return ctx.cancel(d.cancel);
    ids[d.key] = ctx.schedule("Reminded", { key: d.key }, { in: d.key === "soon" ? "1s" : "3s" });
  });
  await run(ev("soon"), ctxFor());
  await run(ev("later"), ctxFor());
  await run(createEvent({ type: "Counted", data: { key: "later", cancel: ids.later } }), ctxFor());
  const [fired] = await waitFor(
    async () => ((await stored("Reminded", ids.soon!)).length ? stored("Reminded", ids.soon!) : null),
    "the timer to fire",
    15_000,
  );
  assert.equal(fired!.data, { key: "soon" });
  assert.is(await timers.pending("count-e"), 0, "the cancelled timer is gone");
  // nothing is left that could fire: the cancelled schedule is gone and the fired one was relayed
  await waitFor(
    async () => (await jetstreamManager(env.nc).then((j) => j.streams.info("JETBUS_TIMERS"))).state.messages === 0,
    "the timer stream to drain",
    15_000,
  );
  assert.is((await stored("Reminded", ids.later!)).length, 0);
  assert.is((await stored("Reminded", ids.soon!)).length, 1, "fired once");
});

test("a staged state that breaks schemas/state/<actor>.json is refused by name and nothing is committed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-state-schema-"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "count-f.json"),
    JSON.stringify({ type: "object", properties: { n: { type: "integer", maximum: 1 } }, required: ["n"] }),
  );
  const { run, store } = await counter("count-f", increment, new StateSchemas(dir));
  await run(ev("s"), ctxFor());
  const err = await run(ev("s"), ctxFor()).then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, SchemaViolationError);
  assert.match((err as Error).message, /schemas\/state\/count-f\.json/);
  assert.match((err as Error).message, /\$\.n|n:/);
  assert.equal((await store.read("s")).value, { n: 1 });
});

test.run();
