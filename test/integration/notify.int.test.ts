import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import pino from "pino";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { startRuntime, type Runtime } from "../../runtime/app/bootstrap.ts";
import { configFrom } from "../../runtime/config/load.ts";
import type { JetbusConfig } from "../../runtime/config/types.ts";
import { defineActor } from "../../runtime/actor/define.ts";
import { registerHandler } from "../../runtime/actor/registry.ts";
import type { Event } from "../../runtime/events/types.ts";
import { ensureEventStream, StoreAccess } from "../../runtime/store/mod.ts";
import { EventBus } from "../../runtime/store/bus.ts";
import { notificationTypesOf } from "../../runtime/config/notifications.ts";
import { startNotifications, type RunningNotifications } from "../../runtime/notify/start.ts";
import type { Logger } from "../../runtime/log.ts";

type Seen = { actor: string; replica: string; event: Event };
const seen: Seen[] = [];
let failures = 0;

for (const name of ["dash-a", "dash-b", "dash-c"])
  registerHandler(
    `notify-${name}`,
    defineActor({
      handle(event, ctx) {
        seen.push({ actor: name, replica: ctx.replica, event });
      },
    }),
  );
registerHandler(
  "notify-flaky",
  defineActor({
    handle(event) {
      if (event.data && (event.data as { fail?: boolean }).fail) {
        failures++;
        throw new Error("the dashboard is down");
      }
      seen.push({ actor: "flaky", replica: "", event });
    },
  }),
);

/** The slow actor's handlings: each waits for ctx.signal, which the actor's timeout aborts. */
const slowAborted: string[] = [];
registerHandler(
  "notify-slow",
  defineActor({
    handle(event, ctx) {
      return new Promise<void>((_resolve, reject) =>
        ctx.signal.addEventListener("abort", () => {
          slowAborted.push(event.id);
          reject(ctx.signal.reason as Error);
        }),
      );
    },
  }),
);

const CONFIG: JetbusConfig = configFrom(
  {
    actors: [
      { name: "dash-a", handler: "notify-dash-a" },
      { name: "dash-b", handler: "notify-dash-b" },
      { name: "dash-c", handler: "notify-dash-c", concurrency: 2 },
      { name: "flaky", handler: "notify-flaky" },
      { name: "slow", handler: "notify-slow", concurrency: 1, timeout: "300ms" },
    ],
    routes: {
      rules: [
        { name: "ticks", match: { type: "PriceTicked" }, to: ["dash-a", "dash-b"] },
        {
          name: "big-ticks",
          match: { type: "PriceTicked", data: { gte: { price: 100 } } },
          to: ["dash-c"],
          transform: { pick: ["symbol"], set: { big: true } },
        },
        { name: "users", match: { type: "UserCreated" }, to: ["dash-a"] },
        { name: "flaky", match: { type: "Flaky.*" }, to: ["flaky"] },
        { name: "slow", match: { type: "SlowTick" }, to: ["slow"] },
      ],
    },
    notifications: { types: ["PriceTicked", "Flaky.>"], max_pending: 3 },
    observability: { log_level: "warn" },
  },
  "(test)",
);

/** Error lines the runtime logged, as JSON objects. */
const logLines: Array<Record<string, unknown>> = [];
function capturingLogger(): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: "warn" }, sink) as unknown as Logger;
}

let env: Awaited<ReturnType<typeof startServer>>;
const runtimes: Runtime[] = [];
const running: RunningNotifications[] = [];

test.before(async () => {
  env = await startServer();
  // the store exists (as in any deployment), so the test can show it stays empty
  await ensureEventStream(await jetstreamManager(env.nc), CONFIG.store, StoreAccess.Create);
  // two processes' worth of the same actors: separate connections, each subscribed in the actors' queue groups
  for (const name of ["replica-1", "replica-2"]) {
    const rt = await startRuntime({ servers: env.server.url, config: CONFIG, name, logger: capturingLogger() });
    runtimes.push(rt);
    // the slow actor runs in the first process only, so which notifications wait or are dropped is known
    running.push(await startNotifications(rt, name === "replica-1" ? undefined : ["dash-a", "dash-b", "dash-c", "flaky"]));
  }
});

test.after(async () => {
  for (const r of running) await r.stop(1000);
  for (const rt of runtimes) await rt.dispose();
  await env?.stop();
});

test("each notification reaches each routed actor once, the replicas split it, and the rules' filter and transform apply in the actor", async () => {
  seen.length = 0;
  const bus = new EventBus(env.nc, { notifications: notificationTypesOf(CONFIG) });
  const ids: string[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await bus.publish("PriceTicked", { symbol: `S${i}`, price: i });
    assert.is(r.notification, true);
    assert.is(r.seq, 0, "not stored: no sequence");
    ids.push(r.id);
  }
  await bus.flush();
  const of = (actor: string) => seen.filter((s) => s.actor === actor);
  await waitFor(() => of("dash-a").length >= 200 && of("dash-b").length >= 200 && of("dash-c").length >= 100, "every notification handled");
  // a moment for anything delivered twice to show up: a notification handled after this would be a duplicate
  await env.nc.flush();
  for (const actor of ["dash-a", "dash-b"]) {
    const got = of(actor).map((s) => s.event.id);
    assert.is(got.length, 200, `${actor} handled 200`);
    assert.is(new Set(got).size, 200, `${actor} handled each once`);
    assert.equal([...got].sort(), [...ids].sort());
    const replicas = new Set(of(actor).map((s) => s.replica));
    assert.is(replicas.size, 2, `${actor}: both replicas took a share (queue group)`);
  }
  const big = of("dash-c");
  assert.is(big.length, 100, "dash-c only got price >= 100");
  assert.is(new Set(big.map((s) => s.event.id)).size, 100);
  for (const s of big) {
    assert.equal(Object.keys(s.event.data as object).sort(), ["big", "symbol"], "transform: pick symbol, set big");
    assert.is(s.event.type, "PriceTicked");
  }
});

test("nothing is stored: no event in the store, no inbox copy, no processed marker", async () => {
  const jsm = await jetstreamManager(env.nc);
  assert.is((await jsm.streams.info(CONFIG.store.stream)).state.messages, 0, "EVENTS holds nothing");
  const names: string[] = [];
  for await (const s of jsm.streams.list()) {
    names.push(s.config.name);
    if (s.config.name !== "KV_jetbus-config") assert.is(s.state.messages, 0, `${s.config.name} holds nothing`);
  }
  assert.not.ok(
    names.some((n) => n.startsWith("KV_jetbus-processed") || n === "JETBUS_INBOX"),
    `no marker bucket or inbox: ${names.join(", ")}`,
  );
});

test("a notification against its schema, or not an event, is dropped and counted; a valid one from a plain publisher is handled", async () => {
  seen.length = 0;
  // what `nats pub notify.UserCreated ...` sends: a raw JSON body, no headers
  const enc = new TextEncoder();
  env.nc.publish("notify.UserCreated", enc.encode('{"user_id":5}'));
  env.nc.publish("notify.UserCreated", enc.encode("not json"));
  const h = headers();
  h.set("ce-id", "plain-1");
  env.nc.publish("notify.UserCreated", enc.encode('{"user_id":"u1"}'), { headers: h });
  await env.nc.flush();
  await waitFor(() => seen.some((s) => s.event.id === "plain-1"), "the valid plain notification handled");
  const dropped = async () => {
    let n = 0;
    for (const rt of runtimes) {
      const m = await rt.metrics.notificationsDropped.get();
      n += m.values.filter((v) => v.labels.actor === "dash-a" && v.labels.reason === "invalid").reduce((a, v) => a + v.value, 0);
    }
    return n;
  };
  await waitFor(async () => (await dropped()) === 2, "two invalid notifications counted");
  assert.is(seen.filter((s) => s.actor === "dash-a").length, 1, "only the valid one reached the handler");
  assert.ok(
    logLines.some((l) => String(l.err).includes("user_id") && l.msg === "notification dropped: not a valid event"),
    "the schema problem is logged",
  );
});

test("a handler error is logged and not retried", async () => {
  seen.length = 0;
  failures = 0;
  const bus = new EventBus(env.nc, { notifications: notificationTypesOf(CONFIG) });
  const failing = await bus.publish("Flaky.Signal", { fail: true });
  // a later notification to the same actor, handled: the failed one had its one chance before or beside it
  await bus.publish("Flaky.Signal", { fail: false });
  await bus.flush();
  await waitFor(() => seen.some((s) => s.actor === "flaky"), "the later notification handled");
  await waitFor(() => logLines.some((l) => l.eventId === failing.id), "the failure logged");
  const line = logLines.find((l) => l.eventId === failing.id)!;
  assert.is(line.actor, "flaky");
  assert.is(line.eventType, "Flaky.Signal");
  assert.match(String(line.msg), /not retried/);
  assert.match(JSON.stringify(line.err), /the dashboard is down/);
  // counts reach prom-client once a second (runtime/notify/counts.ts)
  const dropped = async () => {
    let n = 0;
    for (const rt of runtimes) {
      const m = await rt.metrics.handlings.get();
      n += m.values.filter((v) => v.labels.actor === "flaky" && v.labels.outcome === "dropped").reduce((a, v) => a + v.value, 0);
    }
    return n;
  };
  await waitFor(async () => (await dropped()) === 1, "counted once as dropped");
  // the handler ran once; a retry would run it again after a backoff: give one a chance to show (no fixed sleep:
  // a round trip through both replicas' connections orders us after anything they were about to process)
  for (const rt of runtimes) await rt.nc.flush();
  assert.is(failures, 1, "the failing handler ran exactly once");
});

test("a handler past its timeout is failed and its ctx.signal aborted; past max_pending, notifications are dropped and counted", async () => {
  logLines.length = 0;
  const bus = new EventBus(env.nc);
  const ids: string[] = [];
  // one sync burst: the first takes the one slot, three wait (max_pending 3), six are dropped
  for (let i = 0; i < 10; i++) ids.push((await bus.notify("SlowTick", { i })).id);
  await bus.flush();
  await waitFor(() => slowAborted.length === 4, "the four admitted handlings timed out one after another", 20_000);
  assert.equal(slowAborted, ids.slice(0, 4), "the first four, in order");
  const timeouts = logLines.filter((l) => l.actor === "slow" && l.code === "TIMEOUT");
  assert.is(timeouts.length, 4, "each timeout logged with its code");
  const overflow = async () => {
    const m = await runtimes[0]!.metrics.notificationsDropped.get();
    return m.values.filter((v) => v.labels.actor === "slow" && v.labels.reason === "overflow").reduce((a, v) => a + v.value, 0);
  };
  await waitFor(async () => (await overflow()) === 6, "six dropped for overflow");
});

test("bus.notify sends a type the config does not declare; publish({ notify: false }) stores a declared one", async () => {
  seen.length = 0;
  const bus = new EventBus(env.nc, { notifications: notificationTypesOf(CONFIG) });
  const r = await bus.notify("UserCreated", { user_id: "u9" });
  assert.is(r.notification, true);
  await bus.flush();
  await waitFor(() => seen.some((s) => s.event.id === r.id), "the per-publish notification handled by dash-a");
  const stored = await bus.publish("PriceTicked", { symbol: "X", price: 1 }, { notify: false });
  assert.is(stored.notification, undefined);
  assert.ok(stored.seq > 0, "stored with a sequence");
  await bus.close();
});

test("live config: a new revision's rules switch the subscriptions", async () => {
  const { ConfigStore } = await import("../../runtime/routing/config-store.ts");
  const store = await ConfigStore.open(env.nc);
  const doc = JSON.parse(JSON.stringify(CONFIG)) as JetbusConfig;
  delete (doc as Partial<JetbusConfig>).nats;
  doc.routes.rules.push({ name: "alerts", match: { type: "Alert.*" }, to: ["dash-b"] });
  await store.apply(doc, "(test)");
  await waitFor(
    () => running.every((r) => r.subscribers.find((s) => s.actor === "dash-b")!.subjects.includes("notify.Alert.*")),
    "dash-b listens on notify.Alert.*",
  );
  seen.length = 0;
  const bus = new EventBus(env.nc);
  const r = await bus.notify("Alert.Fire", { level: 3 });
  await bus.flush();
  await waitFor(() => seen.some((s) => s.actor === "dash-b" && s.event.id === r.id), "the new rule routed it");
  assert.is(seen.filter((s) => s.event.id === r.id).length, 1, "to dash-b only, once");
});

test.run();
