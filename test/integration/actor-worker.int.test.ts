import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, readLog } from "../fixtures/probe-handler.ts";
import { feed, probeConfig, probeEvent, testRuntime } from "../fixtures/actor-harness.ts";
import {
  ensureActorConsumers,
  ensureInbox,
  InboxLayout,
  listDeadLetters,
  markerKeyOf,
  replayDeadLetters,
  startActors,
} from "../../runtime/actor/mod.ts";
import { ensureEventStream } from "../../runtime/store/stream.ts";
import { Buckets, JetbusHeaders, Streams } from "../../runtime/topology.ts";
import type { Runtime } from "../../runtime/app/bootstrap.ts";

let env: Awaited<ReturnType<typeof startServer>>;
const runtimes: Runtime[] = [];

test.before(async () => {
  env = await startServer();
  await ensureLogStream(env.nc);
});
test.after(async () => {
  for (const rt of runtimes) await rt.dispose().catch(() => undefined);
  await env?.stop();
});

async function runtime(config: ReturnType<typeof probeConfig>): Promise<Runtime> {
  const rt = await testRuntime(env.server.url, config);
  runtimes.push(rt);
  return rt;
}

/** One worker of the config's only actor, with `events` fed to its inbox in this order. */
async function oneWorkerFed(config: ReturnType<typeof probeConfig>, ...events: ReturnType<typeof probeEvent>[]) {
  const actor = config.actors[0]!;
  const rt = await runtime(config);
  const running = await startActors(rt, [actor.name], { replicas: 1 });
  for (const e of events) await feed(env.nc, actor, e);
  return { rt, running };
}

/** Waits for the actor's first dead letter. */
async function firstDeadLetter(actor: string) {
  const [dl] = await waitFor(
    async () => {
      const l = await listDeadLetters(env.nc, { actor });
      return l.length ? l : null;
    },
    `a dead letter of ${actor}`,
    30_000,
  );
  return dl!;
}

/** Sum of a counter's series for one actor whose `outcome` is one of `outcomes`. */
async function sum(counter: Runtime["metrics"]["handlings"], actor: string, outcomes: readonly string[]): Promise<number> {
  const m = await counter.get();
  return m.values.filter((v) => v.labels.actor === actor && outcomes.includes(String(v.labels.outcome))).reduce((n, v) => n + v.value, 0);
}

/** The counts these tests read, from jetbus_handlings_total and jetbus_handling_attempts_total. */
async function count(rt: Runtime, what: "handled" | "failed" | "retried" | "deadLettered" | "skipped", actor: string): Promise<number> {
  const m = rt.metrics;
  if (what === "handled") return sum(m.handlings, actor, ["handled"]);
  if (what === "deadLettered") return sum(m.handlings, actor, ["dead_lettered"]);
  if (what === "skipped") return sum(m.handlings, actor, ["duplicate"]);
  const failed = await sum(m.attempts, actor, ["error"]);
  // every failed attempt is retried, except the one that ends in the dead letters (none of these tests' dead letters is "unanswered")
  return what === "failed" ? failed : failed - (await sum(m.handlings, actor, ["dead_lettered", "dropped"]));
}

test("ensureInbox creates the work-queue inbox, the DLQ and per-partition durables, and is idempotent", async () => {
  const config = probeConfig([{ name: "inbox-a" }, { name: "inbox-b", ordered: { key: "correlationid", partitions: 3 } }]);
  const jsm = await jetstreamManager(env.nc);
  await ensureInbox(jsm, config);
  await ensureInbox(jsm, config);
  const inbox = await jsm.streams.info(Streams.Inbox);
  assert.is(inbox.config.retention, "workqueue");
  assert.equal(inbox.config.subjects, ["actors.>"]);
  assert.ok(await jsm.streams.info(Streams.DeadLetter));
  const a = await jsm.consumers.info(Streams.Inbox, "inbox-a");
  assert.is(a.config.filter_subject, "actors.inbox-a.>");
  assert.is(a.config.max_ack_pending, 1000);
  const p2 = await jsm.consumers.info(Streams.Inbox, "inbox-b-p2");
  assert.is(p2.config.filter_subject, "actors.inbox-b.2");
  assert.is(p2.config.max_ack_pending, 1);
  // the actor's own process (InboxLayout.Switch) switching inbox-b to unordered replaces its partition
  // durables instead of failing on overlap (actor-inbox-layout.int: with events waiting)
  await ensureActorConsumers(jsm, probeConfig([{ name: "inbox-b" }]).actors[0]!, { layout: InboxLayout.Switch });
  const names: string[] = [];
  for await (const c of jsm.consumers.list(Streams.Inbox)) names.push(c.name);
  assert.ok(names.includes("inbox-b"));
  assert.not.ok(names.some((n) => n.startsWith("inbox-b-p")));
});

test("competing replicas in two connections split the work and handle no event twice", async () => {
  const config = probeConfig([{ name: "split", concurrency: 2 }]);
  const actor = config.actors[0]!;
  const rt1 = await runtime(config);
  const rt2 = await runtime(config);
  const a = await startActors(rt1, ["split"], { replicas: 2 });
  const b = await startActors(rt2, ["split"], { replicas: 2 });
  const events = Array.from({ length: 40 }, (_, n) => probeEvent({ n, delay_ms: 15 }));
  for (const e of events) await feed(env.nc, actor, e);
  const done = await waitFor(
    async () => {
      const ends = (await readLog(env.nc)).filter((l) => l.actor === "split" && l.phase === "end");
      return ends.length >= 40 ? ends : null;
    },
    "40 events handled",
    30_000,
  );
  const perEvent = new Map<string, number>();
  for (const l of done) perEvent.set(l.eventId, (perEvent.get(l.eventId) ?? 0) + 1);
  assert.is(perEvent.size, 40);
  assert.ok(
    [...perEvent.values()].every((n) => n === 1),
    "every event handled exactly once",
  );
  const replicas = new Set(done.map((l) => l.replica));
  assert.ok(replicas.size >= 2, `work split over ${replicas.size} replicas`);
  assert.is((await count(rt1, "handled", "split")) + (await count(rt2, "handled", "split")), 40);
  // presence: every worker heartbeats under actor.<name>.<replica>
  const kv = await new Kvm(env.nc).open(Buckets.Presence);
  const keys: string[] = [];
  for await (const k of await kv.keys("actor.split.>")) keys.push(k);
  assert.is(keys.length, 4);
  const v = (await kv.get(keys[0]!))!.json<{ role: string; name: string; pid: number }>();
  assert.is(v.role, "actor");
  assert.is(v.name, "split");
  assert.is(v.pid, process.pid);
  await Promise.all([a.stop(5000), b.stop(5000)]);
  const left: string[] = [];
  for await (const k of await kv.keys("actor.split.>")) left.push(k);
  assert.is(left.length, 0, "a stopped worker removes its presence entry");
});

test("a failing handler is retried through delayed redelivery, then succeeds; ctx carries seqs and publishes follow-ups", async () => {
  const config = probeConfig([{ name: "flaky", retry: { max_attempts: 3, backoff: ["100ms"] } }]);
  const actor = config.actors[0]!;
  const rt = await runtime(config);
  await ensureEventStream(await jetstreamManager(rt.nc), config.store);
  const running = await startActors(rt, ["flaky"], { replicas: 1 });
  const event = probeEvent({ fail_times: 2, follow_up: "ProbeFollowed" }, { correlationid: "corr-flaky" });
  await feed(env.nc, actor, event, { originSeq: 42 });
  await waitFor(
    async () => (await readLog(env.nc)).some((l) => l.eventId === event.id && l.phase === "end"),
    "handled after retries",
    30_000,
  );
  const starts = (await readLog(env.nc)).filter((l) => l.eventId === event.id && l.phase === "start");
  assert.equal(
    starts.map((s) => s.attempt),
    [1, 2, 3],
  );
  assert.is(await count(rt, "failed", "flaky"), 2);
  assert.is(await count(rt, "retried", "flaky"), 2);
  assert.is(await count(rt, "handled", "flaky"), 1);
  // delays come from JetStream redelivery: at least the backoff between attempts
  assert.ok(starts[1]!.at - starts[0]!.at >= 90, `second attempt ${starts[1]!.at - starts[0]!.at} ms after the first`);
  const jsm = await jetstreamManager(env.nc);
  const follow = await jsm.streams.getMessage("EVENTS", { last_by_subj: "events.ProbeFollowed" });
  assert.ok(follow);
  assert.is(follow!.header.get("ce-correlationid"), "corr-flaky");
  assert.is(follow!.header.get("ce-causationid"), event.id);
  assert.is(follow!.header.get("ce-source"), "flaky");
  const marker = await (await new Kvm(env.nc).open(Buckets.processed("flaky"))).get(markerKeyOf(event));
  assert.is(marker!.json<{ attempts: number }>().attempts, 3);
  await running.stop(5000);
});

test("retry exhaustion dead-letters the event with its error, then replay brings it back to the actor", async () => {
  const config = probeConfig([{ name: "doomed", retry: { max_attempts: 2, backoff: ["100ms"] } }]);
  const actor = config.actors[0]!;
  const rt = await runtime(config);
  const running = await startActors(rt, ["doomed"], { replicas: 1 });
  const event = probeEvent({ fail_times: 2 });
  const inboxSeq = await feed(env.nc, actor, event, { originSeq: 7 });
  const dl = await firstDeadLetter("doomed");
  assert.is(dl.eventId, event.id);
  assert.is(dl.attempts, 2);
  assert.is(dl.error, "planned failure 2");
  assert.is(dl.errorCode, "Error");
  assert.is(dl.originSeq, 7);
  assert.is(dl.type, "ProbeHappened");
  assert.is(await count(rt, "deadLettered", "doomed"), 1);
  // the original was terminated: gone from the work queue
  const jsm = await jetstreamManager(env.nc);
  await waitFor(
    async () => (await jsm.streams.getMessage(Streams.Inbox, { seq: inboxSeq }).catch(() => null)) === null,
    "inbox copy removed",
    10_000,
  );
  // the body and ce headers are the original's
  const stored = await jsm.streams.getMessage(Streams.DeadLetter, { seq: dl.dlqSeq });
  assert.is(stored!.header.get("ce-id"), event.id);
  assert.is(stored!.header.get("jetbus-actor"), "doomed");
  // replay by event id: a new inbox message, so its attempts start over at 1
  const replayed = await replayDeadLetters(env.nc, config.actors, { id: event.id });
  assert.is(replayed.length, 1);
  assert.is(replayed[0]!.eventId, event.id);
  assert.is((await listDeadLetters(env.nc, { actor: "doomed" })).length, 0, "replayed entry removed from the DLQ");
  // the replayed copy is a fresh delivery of the same event id: it runs again from attempt 1
  await waitFor(
    async () => (await readLog(env.nc)).filter((l) => l.eventId === event.id && l.phase === "start").length >= 3,
    "replayed event handled again",
    30_000,
  );
  const again = (await readLog(env.nc)).filter((l) => l.eventId === event.id && l.phase === "start");
  assert.is(again[2]!.attempt, 1);
  await waitFor(
    async () => (await listDeadLetters(env.nc, { actor: "doomed" })).length === 1,
    "dead-lettered again after a second exhaustion",
    30_000,
  );
  await running.stop(5000);
});

test("a terminal error skips the remaining attempts and dead-letters at once with its code", async () => {
  const config = probeConfig([{ name: "strict", retry: { max_attempts: 5, backoff: ["100ms"] } }]);
  const actor = config.actors[0]!;
  const rt = await runtime(config);
  const running = await startActors(rt, ["strict"], { replicas: 1 });
  const event = probeEvent({ terminal: true });
  await feed(env.nc, actor, event);
  const dl = await firstDeadLetter("strict");
  assert.is(dl.attempts, 1);
  assert.is(dl.errorCode, "USER_MISSING");
  assert.is(dl.error, "user does not exist");
  assert.is((await readLog(env.nc)).filter((l) => l.eventId === event.id && l.phase === "start").length, 1);
  assert.is(await count(rt, "retried", "strict"), 0);
  await running.stop(5000);
});

test("a handler past its timeout fails the delivery (retried, then dead-lettered with code TIMEOUT) and frees its slot", async () => {
  const config = probeConfig([{ name: "slow", concurrency: 1, timeout: "300ms", retry: { max_attempts: 2, backoff: ["100ms"] } }]);
  const hung = probeEvent({ n: 1, delay_ms: 60_000 });
  const quick = probeEvent({ n: 2 });
  const { rt, running } = await oneWorkerFed(config, hung, quick);
  const dl = await firstDeadLetter("slow");
  assert.is(dl.eventId, hung.id);
  assert.is(dl.attempts, 2);
  assert.is(dl.errorCode, "TIMEOUT");
  assert.match(dl.error, /timeout of 300 ms/);
  // concurrency 1: the second event could only run once the hung handling let go of the slot
  await waitFor(
    async () => (await readLog(env.nc)).some((l) => l.eventId === quick.id && l.phase === "end"),
    "the next event handled",
    30_000,
  );
  assert.is(await count(rt, "retried", "slow"), 1);
  await running.stop(0);
});

test("a handler running longer than ack_wait keeps its delivery: no redelivery to another worker meanwhile", async () => {
  const config = probeConfig([{ name: "long", ack_wait: "1s" }]);
  const actor = config.actors[0]!;
  const rt = await runtime(config);
  const running = await startActors(rt, ["long"], { replicas: 2 });
  const event = probeEvent({ n: 1, delay_ms: 3500 });
  await feed(env.nc, actor, event);
  const end = await waitFor(
    async () => (await readLog(env.nc)).find((l) => l.eventId === event.id && l.phase === "end"),
    "the long handling finished",
    30_000,
  );
  assert.is(end.attempt, 1);
  assert.is(
    (await readLog(env.nc)).filter((l) => l.eventId === event.id && l.phase === "start").length,
    1,
    "started once, though it ran 3.5 x ack_wait",
  );
  await running.stop(5000);
});

test("a delivery waiting for a busy worker's only slot longer than ack_wait is not redelivered meanwhile", async () => {
  // markers off: a redelivered copy would run the handler again instead of being skipped
  const config = probeConfig([{ name: "queued", concurrency: 1, ack_wait: "1s", idempotency: { enabled: false, ttl: "24h" } }]);
  const waiting = probeEvent({ n: 2 });
  const { running } = await oneWorkerFed(config, probeEvent({ n: 1, delay_ms: 2500 }), waiting);
  await waitFor(
    async () => (await readLog(env.nc)).some((l) => l.eventId === waiting.id && l.phase === "end"),
    "the waiting event handled",
    30_000,
  );
  // a redelivered copy would be buffered right behind it and start as soon as the slot frees
  await running.stop(5000);
  const starts = (await readLog(env.nc)).filter((l) => l.eventId === waiting.id && l.phase === "start");
  assert.equal(
    starts.map((l) => l.attempt),
    [1],
    "handled once, on its first delivery, after waiting 2.5 x ack_wait for the slot",
  );
});

test("an event redelivered after its marker was written is acked without running the handler", async () => {
  const config = probeConfig([{ name: "once", ack_wait: "1s" }]);
  const actor = config.actors[0]!;
  const jsm = await jetstreamManager(env.nc);
  await ensureInbox(jsm, config);
  const event = probeEvent({ n: 1 });
  const seq = await feed(env.nc, actor, event);
  // a previous worker took delivery 1, ran the handler, wrote the marker, and died before acking
  const first = await (await jetstream(env.nc).consumers.get(Streams.Inbox, "once")).next({ expires: 5000 });
  assert.is(first!.seq, seq);
  const kv = await new Kvm(env.nc).create(Buckets.processed("once"), { history: 1, ttl: 24 * 3600_000 });
  await kv.put(markerKeyOf(event), JSON.stringify({ at: new Date().toISOString(), attempts: 1, replica: "dead" }));
  const rt = await runtime(config);
  const running = await startActors(rt, ["once"], { replicas: 1 });
  await waitFor(async () => (await count(rt, "skipped", "once")) === 1, "redelivery skipped", 30_000);
  assert.is((await readLog(env.nc)).filter((l) => l.eventId === event.id).length, 0, "handler never ran");
  await waitFor(
    async () => (await jsm.streams.getMessage(Streams.Inbox, { seq }).catch(() => null)) === null,
    "skipped copy acked",
    10_000,
  );
  // a second copy of the same event (the router re-publishing it after the inbox's duplicate window says so) is skipped as well
  await feed(env.nc, actor, event, { msgId: `${event.id}:once:again`, headers: { [JetbusHeaders.DupCheck]: "1" } });
  await waitFor(async () => (await count(rt, "skipped", "once")) === 2, "second copy skipped", 30_000);
  assert.is(await count(rt, "handled", "once"), 0);
  await running.stop(5000);
});

/**
 * Counts the markers read from an actor's bucket, as the server sees them asked: direct gets of
 * one key, batched direct gets (each key of `multi_last`), and the leader's API gets.
 */
async function markerReads(actor: string): Promise<{ count(): number; stop(): void }> {
  const stream = `KV_${Buckets.processed(actor)}`;
  let n = 0;
  const keysIn = (data: Uint8Array): number => {
    const body = data.length ? (JSON.parse(new TextDecoder().decode(data)) as { multi_last?: string[] }) : {};
    return body.multi_last?.length ?? 1;
  };
  const subs = [
    env.nc.subscribe(`$JS.API.DIRECT.GET.${stream}`, { callback: (_e, m) => void (n += keysIn(m.data)) }),
    env.nc.subscribe(`$JS.API.DIRECT.GET.${stream}.>`, { callback: () => void n++ }),
    env.nc.subscribe(`$JS.API.STREAM.MSG.GET.${stream}`, { callback: () => void n++ }),
  ];
  await env.nc.flush();
  return { count: () => n, stop: () => subs.forEach((s) => s.unsubscribe()) };
}

test("markers are read only where a duplicate is possible: a first copy is handled without a read, a dup-check copy or a redelivery reads and is skipped", async () => {
  const config = probeConfig([{ name: "reads", ack_wait: "2s" }]);
  const actor = config.actors[0]!;
  const rt = await runtime(config);
  const running = await startActors(rt, ["reads"], { replicas: 1 });
  const reads = await markerReads("reads");
  // ten first copies: handled, their markers written, not one read
  const events = Array.from({ length: 10 }, (_, n) => probeEvent({ n }));
  for (const e of events) await feed(env.nc, actor, e);
  await waitFor(async () => (await count(rt, "handled", "reads")) === 10, "ten first copies handled", 30_000);
  // counted handled once its marker is stored
  await env.nc.flush();
  assert.is(reads.count(), 0, "a first copy reads no marker");
  // the router's second copies of three of them, each marked as a possible duplicate: one read each, none handled
  for (const e of events.slice(0, 3))
    await feed(env.nc, actor, e, { msgId: `${e.id}:reads:late`, headers: { [JetbusHeaders.DupCheck]: "1" } });
  await waitFor(async () => (await count(rt, "skipped", "reads")) === 3, "three possible duplicates skipped", 30_000);
  assert.is(reads.count(), 3);
  // a dup-check copy of an event never handled runs
  const fresh = probeEvent({ n: 99 });
  await feed(env.nc, actor, fresh, { headers: { [JetbusHeaders.DupCheck]: "1" } });
  await waitFor(async () => (await count(rt, "handled", "reads")) === 11, "possible duplicate without a marker handled", 30_000);
  assert.is(reads.count(), 4);
  assert.is((await readLog(env.nc)).filter((l) => l.actor === "reads" && l.phase === "end").length, 11, "the handler ran 11 times");
  reads.stop();
  await running.stop(5000);
});

test.run();
