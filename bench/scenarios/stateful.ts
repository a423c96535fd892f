import "reflect-metadata";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ActorWorker, ensureInbox } from "../../runtime/actor/mod.ts";
import { inboxSubjectFor } from "../../runtime/actor/ordering.ts";
import { statefulHandler } from "../../runtime/actor/state/stateful.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { Timers } from "../../runtime/actor/state/timers.ts";
import type { HandlerFn } from "../../runtime/actor/types.ts";
import { configFrom } from "../../runtime/config/load.ts";
import type { ActorSettings } from "../../runtime/config/types.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";
import { percentile, type Scenario } from "../harness.ts";
import { CpuMeter } from "../pipeline-support.ts";
import { commitProbe } from "./atomic-probe.ts";

const KEYS = 64;
const PARTITIONS = 8;
const ROUNDS = 3;

function settingsFor(name: string): ActorSettings {
  return configFrom({ actors: [{ name, ordered: { key: "data.key", partitions: PARTITIONS } }] }).actors[0]!;
}

async function prefill(nc: NatsConnection, settings: ActorSettings, n: number): Promise<void> {
  const js = jetstream(nc);
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const e = createEvent({ type: "Counted", data: { key: `k${i % KEYS}` }, source: "bench" });
    const w = encodeEvent(e, { subject: inboxSubjectFor(settings, e), msgId: `${e.id}:${settings.name}` });
    const p = js.publish(w.subject, w.data, { headers: w.headers }).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 2000) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

async function drained(jsm: JetStreamManager, actor: string): Promise<void> {
  for (;;) {
    let left = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const ci = await jsm.consumers.info(Streams.Inbox, Consumers.actorPartition(actor, p));
      left += ci.num_pending + ci.num_ack_pending;
    }
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The server's pid, for the CPU line of each pass (the worker runs in this process). */
let serverPid: number | undefined;

/**
 * Events/s of one worker draining a pre-filled ordered inbox with `handler`; prints the CPU per
 * event of this process (the worker, and the poll of the partitions' durables every 20 ms) and of
 * the server over the drain.
 */
async function run(nc: NatsConnection, jsm: JetStreamManager, settings: ActorSettings, n: number, handler: HandlerFn): Promise<number> {
  await ensureInbox(jsm, configFrom({ actors: [{ name: settings.name, ordered: settings.ordered }] }));
  await prefill(nc, settings, n);
  const worker = new ActorWorker({
    nc,
    settings,
    handler,
    logger: createLogger({ level: "warn", pretty: false }),
    metrics: new Metrics(),
    publishEvent: () => Promise.reject(new Error("not used")),
  });
  const cpu = new CpuMeter({ "bench (worker)": process.pid, "nats-server": serverPid });
  const t0 = performance.now();
  await worker.start();
  await drained(jsm, settings.name);
  const secs = (performance.now() - t0) / 1000;
  if (n >= 1000) process.stderr.write(`  ${settings.name}: ${Math.round(n / secs)} ev/s, ${cpu.report(n)}\n`);
  await worker.stop(10_000);
  return n / secs;
}

/** A counter keeping its count per key as state, vs the same ordered actor with processed markers only. */
async function stateful(nc: NatsConnection, jsm: JetStreamManager, name: string, n: number, timers: Timers): Promise<number> {
  const settings = { ...settingsFor(name), idempotency: { enabled: false, ttl: 86_400_000 } };
  const store = await StateStore.open(nc, name, { replicas: 1 });
  const handler = statefulHandler<{ n: number }>(
    { key: "data.key", initial: { n: 0 } },
    async (_e, ctx) => ctx.state.set({ n: ctx.state.get().n + 1 }),
    {
      actor: name,
      store,
      timers,
      publishEvent: () => Promise.reject(new Error("not used")),
      markerTtlMs: 86_400_000,
    },
  );
  return run(nc, jsm, settings, n, handler);
}

async function markersOnly(nc: NatsConnection, jsm: JetStreamManager, name: string, n: number): Promise<number> {
  const counts = new Map<string, number>();
  return run(nc, jsm, settingsFor(name), n, async (e) => {
    const key = (e.data as { key: string }).key;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
}

const scenario: Scenario = {
  name: "stateful",
  description:
    "stateful counter (its keys' states kept in memory: one guarded write per handling, the previous writer's marker in the same socket write) vs the same ordered actor with processed markers only; 'raw' is the markers-only actor",
  async run(args) {
    const n = Number(args[0] ?? 5000);
    const server = await NatsServer.start();
    serverPid = server.pid;
    try {
      const nc = await connectNats({ servers: server.url, name: "bench-stateful" });
      const jsm = await jetstreamManager(nc);
      const timers = await Timers.open(nc, { replicas: 1 });
      await markersOnly(nc, jsm, "warm-markers", 500);
      await stateful(nc, jsm, "warm-state", 500, timers);
      const withState: number[] = [];
      const withMarkers: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        withMarkers.push(await markersOnly(nc, jsm, `markers-${round}`, n));
        withState.push(await stateful(nc, jsm, `state-${round}`, n, timers));
      }
      if (process.env.BENCH_DEBUG)
        process.stderr.write(`markers ${withMarkers.map(Math.round).join(" ")}; state ${withState.map(Math.round).join(" ")}\n`);
      const probe = await commitProbe(nc, jsm, 100);
      await nc.close();
      const median = (xs: number[]) =>
        percentile(
          [...xs].sort((a, b) => a - b),
          50,
        );
      return [
        {
          metric: `counter, ${n} events, ${KEYS} keys, ${PARTITIONS} partitions (median of ${ROUNDS}): state vs markers only`,
          unit: "ev/s",
          jetbus: median(withState),
          raw: median(withMarkers),
          higherIsBetter: true,
          target: ">= 0.7x",
          reference: "markers only",
        },
        {
          metric: `raw probe, 8 writers on one file stream: one guarded write (jetbus) vs a two-message atomic batch (raw)`,
          unit: "commits/s",
          jetbus: probe.single,
          raw: probe.atomic,
          higherIsBetter: true,
        },
      ];
    } finally {
      await server.stop();
    }
  },
};
export default scenario;
