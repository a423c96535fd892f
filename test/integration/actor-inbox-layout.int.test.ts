// An actor's durables change layout (unordered <-> ordered, another partition count) when its
// process restarts with the new settings: nothing waiting or in flight in the old durables is lost,
// and the waiting copies of one key are handled in stream order under the new layout.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager, AckPolicy, type JsMsg } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, readLog, type LogEntry } from "../fixtures/probe-handler.ts";
import { feed, probeConfig, probeEvent, testRuntime } from "../fixtures/actor-harness.ts";
import { ensureActorConsumers, ensureInbox, InboxLayout, startActors, type RunningActors } from "../../runtime/actor/mod.ts";
import { renderAccountsConf, roleUsers, Users } from "../../runtime/cluster/permissions.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { InboxLayoutError } from "../../runtime/errors.ts";
import { Streams } from "../../runtime/topology.ts";
import type { Runtime } from "../../runtime/app/bootstrap.ts";
import type { ActorInput } from "../../runtime/config/types.ts";
import type { Event } from "../../runtime/events/types.ts";

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

async function runtimeFor(actor: ActorInput): Promise<Runtime> {
  const rt = await testRuntime(env.server.url, probeConfig([actor]));
  runtimes.push(rt);
  return rt;
}

async function durablesOf(actor: string): Promise<string[]> {
  const jsm = await jetstreamManager(env.nc);
  const names: string[] = [];
  for await (const ci of jsm.consumers.list(Streams.Inbox)) if (ci.name === actor || ci.name.startsWith(`${actor}-p`)) names.push(ci.name);
  return names.sort();
}

async function waiting(actor: string): Promise<number> {
  const jsm = await jetstreamManager(env.nc);
  const info = await jsm.streams.info(Streams.Inbox, { subjects_filter: `actors.${actor}.>` });
  return Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
}

/** Every event of `events` handled to its end at least once; returns the log of this actor. */
async function allHandled(actor: string, events: readonly Event[]): Promise<LogEntry[]> {
  const ids = new Set(events.map((e) => e.id));
  return waitFor(
    async () => {
      const log = (await readLog(env.nc)).filter((l) => l.actor === actor);
      const ended = new Set(log.filter((l) => l.phase === "end").map((l) => l.eventId));
      return [...ids].every((id) => ended.has(id)) ? log : null;
    },
    `${events.length} events of ${actor} handled`,
    60_000,
  );
}

/** For each key, the first handling of each of `events` starts in the order they were fed. */
function assertKeyOrder(log: readonly LogEntry[], events: readonly Event[], what: string): void {
  const ids = new Set(events.map((e) => e.id));
  const seen = new Set<string>();
  const lastN = new Map<string, number>();
  for (const l of log) {
    if (l.phase !== "start" || !ids.has(l.eventId) || seen.has(l.eventId)) continue;
    seen.add(l.eventId);
    const before = lastN.get(l.key!) ?? -1;
    assert.ok(l.n! > before, `${what}: key ${l.key} handled n=${l.n} after n=${before}`);
    lastN.set(l.key!, l.n!);
  }
}

const keyed = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => probeEvent({ n: from + i, key: `k${(from + i) % 5}`, delay_ms: 2 }));

test("unordered -> 4 partitions -> 2 -> 3 -> unordered by restarting: every waiting and in-flight copy is handled, each key in order", async () => {
  const name = "lay";
  const layouts: ActorInput[] = [
    { name },
    { name, ordered: { key: "data.key", partitions: 4 } },
    { name, ordered: { key: "data.key", partitions: 2 } },
    { name, ordered: { key: "data.key", partitions: 3 } },
    { name },
  ];
  // the first process: unordered, its durable made, events waiting in it
  const first = await runtimeFor(layouts[0]!);
  await (await startActors(first, [name], { replicas: 1 })).stop();
  assert.equal(await durablesOf(name), [name]);
  let fed = keyed(0, 30);
  for (const e of fed) await feed(env.nc, first.config.actors[0]!, e);
  // an old process's worker holds three deliveries unacked when the new one starts
  const inFlight: JsMsg[] = [];
  const c = await jetstream(env.nc).consumers.get(Streams.Inbox, name);
  for await (const m of await c.fetch({ max_messages: 3, expires: 2_000 })) inFlight.push(m);
  assert.is(inFlight.length, 3);

  let n = 30;
  for (let i = 1; i < layouts.length; i++) {
    const rt = await runtimeFor(layouts[i]!);
    const running: RunningActors = await startActors(rt, [name], { replicas: 1 });
    const ordered = layouts[i]!.ordered;
    assert.equal(await durablesOf(name), ordered ? Array.from({ length: ordered.partitions! }, (_, k) => `${name}-p${k}`).sort() : [name]);
    const log = await allHandled(name, fed);
    if (ordered) assertKeyOrder(log, fed, `layout ${i}`);
    await running.stop();
    // the next batch waits in this layout's durables when the next process starts
    fed = keyed(n, 20);
    n += 20;
    for (const e of fed) await feed(env.nc, rt.config.actors[0]!, e);
  }
  // the in-flight three were handled by the new layout; the old worker's acks come too late to matter
  for (const m of inFlight) m.ack();
  const last = await runtimeFor(layouts[0]!);
  const running = await startActors(last, [name], { replicas: 1 });
  await allHandled(name, fed);
  await running.stop();
  await waitFor(async () => (await waiting(name)) === 0, "the inbox of lay empty");
  const log = (await readLog(env.nc)).filter((l) => l.actor === name && l.phase === "end");
  assert.is(new Set(log.map((l) => l.eventId)).size, n, "every fed event handled");
});

test("a switch cut short after it deleted the old durables: the next start files the copies left on partitions it no longer has", async () => {
  const name = "lay-cut";
  const four = await runtimeFor({ name, ordered: { key: "data.key", partitions: 4 } });
  await (await startActors(four, [name], { replicas: 1 })).stop();
  const fed = keyed(0, 24);
  for (const e of fed) await feed(env.nc, four.config.actors[0]!, e);
  const jsm = await jetstreamManager(env.nc);
  for (const d of await durablesOf(name)) await jsm.consumers.delete(Streams.Inbox, d);
  const two = await runtimeFor({ name, ordered: { key: "data.key", partitions: 2 } });
  const running = await startActors(two, [name], { replicas: 1 });
  assertKeyOrder(await allHandled(name, fed), fed, "after the cut");
  await running.stop();
  assert.is(await waiting(name), 0);
});

test("a router's ensureInbox (a config a revision behind) leaves an actor's other layout alone", async () => {
  const name = "lay-keep";
  const rt = await runtimeFor({ name, ordered: { key: "data.key", partitions: 2 } });
  await (await startActors(rt, [name], { replicas: 1 })).stop();
  await ensureInbox(await jetstreamManager(env.nc), probeConfig([{ name }]));
  assert.equal(await durablesOf(name), [`${name}-p0`, `${name}-p1`]);
});

test("a consumer jetbus does not own on the actor's subjects: INBOX_LAYOUT naming it and how to remove it, nothing created", async () => {
  const name = "lay-blocked";
  const jsm = await jetstreamManager(env.nc);
  await ensureInbox(jsm, probeConfig([{ name: "someone-else" }]));
  await jsm.consumers.add(Streams.Inbox, { durable_name: "intruder", filter_subject: `actors.${name}.1`, ack_policy: AckPolicy.Explicit });
  const rt = await runtimeFor({ name, ordered: { key: "data.key", partitions: 2 } });
  const err = await startActors(rt, [name], { replicas: 1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, InboxLayoutError);
  const e = err as InboxLayoutError;
  assert.is(e.code, "INBOX_LAYOUT");
  assert.match(e.message, /intruder/);
  assert.match(e.hint ?? "", /nats consumer rm JETBUS_INBOX intruder/);
});

test("a least-privilege actor user may not change its layout: INBOX_LAYOUT naming the admin step, its durable untouched", async () => {
  // deploy/'s permissions for the new settings (two partitions): the actor may use its durables, not delete them
  const users = roleUsers([{ name: "perm", ordered: { partitions: 2 } }]);
  for (const u of users) process.env[u.passwordVar] = `secret-${u.user}`;
  const server = await NatsServer.start({ extraConfig: renderAccountsConf(users) });
  const as = (user: string) => connectNats({ servers: server.url, user, pass: `secret-${user}` });
  const admin = await as(Users.admin);
  const actor = await as(Users.actor("perm"));
  try {
    await ensureInbox(await jetstreamManager(admin), probeConfig([{ name: "perm" }]));
    const err = await ensureActorConsumers(
      await jetstreamManager(actor),
      probeConfig([{ name: "perm", ordered: { partitions: 2 } }]).actors[0]!,
      {
        layout: InboxLayout.Switch,
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(err, InboxLayoutError);
    assert.is((err as InboxLayoutError).code, "INBOX_LAYOUT");
    assert.match((err as InboxLayoutError).hint ?? "", /as a user that may delete consumers .*jetbus-admin/);
    assert.ok(await (await jetstreamManager(admin)).consumers.info(Streams.Inbox, "perm"), "the old durable is still there");
  } finally {
    await actor.close();
    await admin.close();
    await server.stop();
  }
});

test.run();
