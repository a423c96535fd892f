import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Runtime } from "../../runtime/app/bootstrap.ts";
import { listDeadLetters, markerKeyOf, startActors, type RunningActors } from "../../runtime/actor/mod.ts";
import { buildStatusReport } from "../../runtime/operations/status.ts";
import { gatherStatusFacts } from "../../runtime/operations/status-facts.ts";
import { ConfigStore } from "../../runtime/routing/config-store.ts";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { Buckets, Consumers, Streams } from "../../runtime/topology.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { probeEvent, testRuntime } from "../fixtures/actor-harness.ts";
import { ensureLogStream, readLog } from "../fixtures/probe-handler.ts";
import { messageCount, publishEvents, routerDeps } from "../fixtures/router-support.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const actors = [{ name: "direct", delivery: "direct" as const, retry: { max_attempts: 2, backoff: ["100ms"] } }, { name: "copied" }];
const rules = (cToDirect: boolean) => [
  { name: "a", match: { type: "ProbeA" }, to: ["direct", "copied"] },
  { name: "b", match: { type: "ProbeB" }, to: ["direct"] },
  { name: "c", match: { type: "ProbeC" }, to: cToDirect ? ["copied", "direct"] : ["copied"] },
];
const configOf = (cToDirect: boolean) =>
  configFrom(
    {
      store: { stream: "EVENTS" },
      actors: actors.map((a) => ({ handler: "probe", ...a })),
      routes: { rules: rules(cToDirect) },
      observability: { log_level: "warn" },
    },
    "(test)",
  );

type Env = { env: Awaited<ReturnType<typeof startServer>>; rt: Runtime; router: RouterHandle; running: RunningActors; store: ConfigStore };

async function start(): Promise<Env> {
  const config = configOf(false);
  const env = await startServer();
  await ensureLogStream(env.nc);
  const store = await ConfigStore.open(env.nc);
  await store.apply(config);
  const router = await startRouter(routerDeps(env.nc, config), { heartbeatMs: 200 });
  const rt = await testRuntime(env.server.url, config);
  const running = await startActors(rt, ["direct", "copied"], { replicas: 1 });
  return { env, rt, router, running, store };
}

async function stop(e: Env): Promise<void> {
  await e.running.stop(5000);
  await e.router.stop();
  await e.rt.dispose();
  await e.env.stop();
}

/** Event ids an actor finished handling, from the probe's log. */
async function handled(e: Env, actor: string): Promise<string[]> {
  return (await readLog(e.env.nc))
    .filter((l) => l.actor === actor && l.phase === "end")
    .map((l) => l.eventId)
    .sort();
}

test("a direct actor gets exactly its rules' types from the store, no inbox copy; a live config change adds a type", async () => {
  const e = await start();
  try {
    const jsm = await jetstreamManager(e.env.nc);
    const ci = await jsm.consumers.info(Streams.Events, Consumers.direct("direct"));
    assert.equal(ci.config.filter_subjects, ["events.ProbeA", "events.ProbeB"]);

    const [a, b, c, d] = ["ProbeA", "ProbeB", "ProbeC", "ProbeD"].map((type) => probeEvent({}, { type }));
    await publishEvents(e.env.nc, [a!, b!, c!, d!]);
    await waitFor(
      async () => (await handled(e, "copied")).length === 2 && (await handled(e, "direct")).length === 2,
      "both actors handled",
      30_000,
    );
    assert.equal(await handled(e, "direct"), [a!.id, b!.id].sort());
    assert.equal(await handled(e, "copied"), [a!.id, c!.id].sort());
    // the router copied only for "copied" (A and C); B went to "direct" alone and is not unrouted, D is
    const inbox = await jsm.streams.info(Streams.Inbox);
    assert.is(inbox.state.last_seq, 2, "two inbox copies, none for the direct actor");
    await waitFor(async () => (await messageCount(e.env.nc, Streams.Unrouted)) === 1, "D unrouted", 30_000);

    // live: rule c now also names the direct actor; the router updates the durable's filter
    await e.store.apply(configOf(true));
    await waitFor(
      async () => (await jsm.consumers.info(Streams.Events, Consumers.direct("direct"))).config.filter_subjects?.length === 3,
      "filter_subjects updated by the router",
      30_000,
    );
    assert.equal((await jsm.consumers.info(Streams.Events, Consumers.direct("direct"))).config.filter_subjects, [
      "events.ProbeA",
      "events.ProbeB",
      "events.ProbeC",
    ]);
    const c2 = probeEvent({}, { type: "ProbeC" });
    await publishEvents(e.env.nc, [c2]);
    await waitFor(async () => (await handled(e, "direct")).includes(c2.id), "the added type reaches the direct actor", 30_000);
    await waitFor(async () => (await handled(e, "copied")).includes(c2.id), "and the copied actor", 30_000);
    assert.is((await jsm.streams.info(Streams.Inbox)).state.last_seq, 3, "still no inbox copy for the direct actor");
  } finally {
    await stop(e);
  }
});

test("a direct actor keeps retries, dead letters and processed markers", async () => {
  const e = await start();
  try {
    const flaky = probeEvent({ fail_times: 1 }, { type: "ProbeB" });
    const doomed = probeEvent({ terminal: true }, { type: "ProbeB" });
    await publishEvents(e.env.nc, [flaky, doomed]);
    await waitFor(async () => (await handled(e, "direct")).includes(flaky.id), "handled on its second attempt", 30_000);
    const starts = (await readLog(e.env.nc)).filter((l) => l.eventId === flaky.id && l.phase === "start").map((l) => l.attempt);
    assert.equal(starts, [1, 2]);
    const marker = await (await new Kvm(e.env.nc).open(Buckets.processed("direct"))).get(markerKeyOf(flaky));
    assert.is(marker!.json<{ attempts: number }>().attempts, 2);
    const [dl] = await waitFor(async () => {
      const l = await listDeadLetters(e.env.nc, { actor: "direct" });
      return l.length ? l : null;
    }, "a dead letter of the direct actor");
    assert.is(dl!.eventId, doomed.id);
    // every delivery settled: nothing left pending on the direct durable
    const jsm = await jetstreamManager(e.env.nc);
    await waitFor(async () => {
      const ci = await jsm.consumers.info(Streams.Events, Consumers.direct("direct"));
      return ci.num_pending === 0 && ci.num_ack_pending === 0;
    }, "direct durable drained");
    // status lists the store durable among the actor's consumers
    const report = buildStatusReport(await gatherStatusFacts(e.env.nc, jsm, e.rt.config));
    const direct = report.actors.find((a) => a.name === "direct")!;
    assert.equal(
      direct.consumers.map((c) => [c.name, c.state]),
      [
        ["direct", "ok"],
        ["jetbus-direct-direct", "ok"],
      ],
    );
  } finally {
    await stop(e);
  }
});

/** Markers of `actor` read from its bucket, as the server sees them asked (single and batched direct gets, leader gets). */
async function markerReads(e: Env, actor: string): Promise<{ count(): number; stop(): void }> {
  const stream = `KV_${Buckets.processed(actor)}`;
  let n = 0;
  const keysIn = (data: Uint8Array): number =>
    data.length ? ((JSON.parse(new TextDecoder().decode(data)) as { multi_last?: string[] }).multi_last?.length ?? 1) : 1;
  const subs = [
    e.env.nc.subscribe(`$JS.API.DIRECT.GET.${stream}`, { callback: (_err, m) => void (n += keysIn(m.data)) }),
    e.env.nc.subscribe(`$JS.API.DIRECT.GET.${stream}.>`, { callback: () => void n++ }),
    e.env.nc.subscribe(`$JS.API.STREAM.MSG.GET.${stream}`, { callback: () => void n++ }),
  ];
  await e.env.nc.flush();
  return { count: () => n, stop: () => subs.forEach((s) => s.unsubscribe()) };
}

test("a direct actor reads its marker only for a store message that may be a second storing of its event", async () => {
  const e = await start();
  try {
    const js = jetstream(e.env.nc);
    const store = async (ev: ReturnType<typeof createEvent>, msgId: string) => {
      const w = encodeEvent(ev, { msgId });
      await js.publish(w.subject, w.data, { headers: w.headers });
    };
    const reads = await markerReads(e, "direct");
    // fresh events, stored within the store's duplicate window of their ce-time: no read, however many
    const fresh = Array.from({ length: 5 }, (_, n) => probeEvent({ n }, { type: "ProbeB" }));
    for (const ev of fresh) await store(ev, ev.id);
    await waitFor(async () => (await handled(e, "direct")).length === 5, "five fresh events handled", 30_000);
    await e.env.nc.flush();
    assert.is(reads.count(), 0, "a first storing reads no marker");
    // an event created 10 minutes ago, stored now (past the 2-minute window): the store cannot rule out an
    // earlier storing, so the marker is read (none yet: handled)
    const old = createEvent({ type: "ProbeB", data: {}, source: "test", time: new Date(Date.now() - 600_000).toISOString() });
    await store(old, old.id);
    await waitFor(async () => (await handled(e, "direct")).includes(old.id), "the old event handled", 30_000);
    assert.is(reads.count(), 1);
    // the same id stored again (a producer's retry after the window: another Nats-Msg-Id gets past dedupe): read, found, skipped
    await store(old, `${old.id}:retry`);
    const skipped = async () =>
      ((await e.rt.metrics.handlings.get()).values.find((v) => v.labels.actor === "direct" && v.labels.outcome === "duplicate")?.value ??
        0) === 1;
    await waitFor(skipped, "the second storing acked as a duplicate", 30_000);
    assert.is(reads.count(), 2);
    assert.is((await handled(e, "direct")).filter((id) => id === old.id).length, 1, "handled once");
    reads.stop();
  } finally {
    await stop(e);
  }
});

test.run();
