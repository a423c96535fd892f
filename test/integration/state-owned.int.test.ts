// Decision: a stateful actor keeps the state of the keys it owns in memory. Counted at the server:
// bucket reads (API gets) and writes (messages published on the bucket's subjects).
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { ActorWorker, ensureInbox } from "../../runtime/actor/mod.ts";
import { statefulHandler } from "../../runtime/actor/state/stateful.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { Timers } from "../../runtime/actor/state/timers.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { Buckets, Streams } from "../../runtime/topology.ts";
import { feed } from "../fixtures/actor-harness.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  await env?.stop();
});

const logger = createLogger({ level: "silent" });

async function counterWorker(name: string, store: StateStore, timers: Timers, runs: string[]) {
  const settings = configFrom({ actors: [{ name, ordered: { key: "data.key", partitions: 1 }, idempotency: { enabled: false } }] })
    .actors[0]!;
  const handler = statefulHandler<{ n: number }>(
    { key: "data.key", initial: { n: 0 } },
    async (e, ctx) => {
      runs.push(e.id);
      ctx.state.set({ n: ctx.state.get().n + 1 });
    },
    { actor: name, store, timers, publishEvent: () => Promise.reject(new Error("not used")), markerTtlMs: 3_600_000 },
  );
  const worker = new ActorWorker({
    nc: env.nc,
    settings,
    handler,
    logger,
    metrics: new Metrics(),
    publishEvent: () => Promise.reject(new Error("no")),
  });
  return { settings, worker };
}

/** Requests and writes on one actor's state bucket, as the server sees them. */
async function bucketTraffic(actor: string) {
  const stream = `KV_${Buckets.state(actor)}`;
  const prefix = `$KV.${Buckets.state(actor)}.`;
  const seen = { reads: 0, states: 0, markers: 0 };
  const subs = [
    env.nc.subscribe(`$JS.API.STREAM.MSG.GET.${stream}`, { callback: () => void seen.reads++ }),
    env.nc.subscribe(`$JS.API.DIRECT.GET.${stream}.>`, { callback: () => void seen.reads++ }),
    env.nc.subscribe(`${prefix}s.>`, { callback: () => void seen.states++ }),
    env.nc.subscribe(`${prefix}m.>`, { callback: () => void seen.markers++ }),
  ];
  await env.nc.flush();
  return { seen, stop: () => subs.forEach((s) => s.unsubscribe()) };
}

test("a worker that takes a partition's deliveries in a row reads each key once; every handling is one guarded state write", async () => {
  const name = "owned-a";
  const jsm = await jetstreamManager(env.nc);
  const store = await StateStore.open(env.nc, name, { replicas: 1 });
  const timers = await Timers.open(env.nc, { replicas: 1 });
  const runs: string[] = [];
  const { settings, worker } = await counterWorker(name, store, timers, runs);
  await ensureInbox(jsm, configFrom({ actors: [{ name, ordered: settings.ordered }] }));
  const traffic = await bucketTraffic(name);
  await worker.start();
  for (let i = 0; i < 40; i++) await feed(env.nc, settings, createEvent({ type: "Counted", data: { key: `k${i % 4}` } }));
  await waitFor(async () => {
    const ci = await jsm.consumers.info(Streams.Inbox, `${name}-p0`);
    return ci.num_pending + ci.num_ack_pending === 0;
  }, "all forty handled");
  await worker.stop(5000);
  await env.nc.flush();
  traffic.stop();
  for (let k = 0; k < 4; k++) assert.equal((await store.read(`k${k}`)).value, { n: 10 }, `k${k} counted each of its events once`);
  assert.is(runs.length, 40, "no handling ran twice");
  assert.is(traffic.seen.reads, 4, "one read per key, on its first touch");
  assert.is(traffic.seen.states, 40, "one state write per handling");
  // the marker of a key's last writer is stored on its own when the next state replaces it (in the same socket write)
  assert.is(traffic.seen.markers, 36);
});

test("a partition handled by another worker in between is read again: its state moved on there, and nothing is lost", async () => {
  const name = "owned-b";
  const jsm = await jetstreamManager(env.nc);
  const store = await StateStore.open(env.nc, name, { replicas: 1 });
  const timers = await Timers.open(env.nc, { replicas: 1 });
  const runsA: string[] = [];
  const runsB: string[] = [];
  const a = await counterWorker(name, store, timers, runsA);
  const b = await counterWorker(name, store, timers, runsB);
  await ensureInbox(jsm, configFrom({ actors: [{ name, ordered: a.settings.ordered }] }));
  await a.worker.start();
  await b.worker.start();
  for (let i = 0; i < 60; i++) await feed(env.nc, a.settings, createEvent({ type: "Counted", data: { key: `k${i % 3}` } }));
  await waitFor(async () => {
    const ci = await jsm.consumers.info(Streams.Inbox, `${name}-p0`);
    return ci.num_pending + ci.num_ack_pending === 0;
  }, "all sixty handled");
  await Promise.all([a.worker.stop(5000), b.worker.stop(5000)]);
  for (let k = 0; k < 3; k++) assert.equal((await store.read(`k${k}`)).value, { n: 20 }, `k${k}: every event counted once`);
  assert.ok(runsA.length > 0 && runsB.length > 0, `both workers took deliveries (${runsA.length} + ${runsB.length})`);
  assert.is(new Set([...runsA, ...runsB]).size, 60);
});

test.run();
