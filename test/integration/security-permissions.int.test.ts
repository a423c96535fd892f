import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { renderAccountsConf, roleUsers, Users } from "../../runtime/cluster/permissions.ts";
import { Buckets, Consumers, Streams, Subjects } from "../../runtime/topology.ts";
import { waitFor } from "../helpers/wait.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { checkDurability, FindingKind } from "../../runtime/cluster/durability.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { startTimerRelay } from "../../runtime/app/timer-relay.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { Timers } from "../../runtime/actor/state/timers.ts";
import { statefulHandler } from "../../runtime/actor/state/stateful.ts";
import type { ActorContext } from "../../runtime/actor/types.ts";
import { EventBus } from "../../runtime/store/mod.ts";
import { createEvent, decodeEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";

// The same generator that wrote deploy/cluster/accounts.conf (a unit test keeps the two equal).
const actors = [{ name: "user-handler-1" }, { name: "user-handler-2" }, { name: "email-handler" }];
const users = roleUsers(actors);
const password = (user: string) => `test-secret-${user}`;
for (const u of users) process.env[u.passwordVar] = password(u.user);

let server: NatsServer;
const open: NatsConnection[] = [];

async function as(user: string): Promise<NatsConnection> {
  const nc = await connectNats({ servers: server.url, user, pass: password(user), name: `test-${user}` });
  open.push(nc);
  return nc;
}

/** A request the server refuses: the client rejects it with the server's permission message. */
async function denied(what: Promise<unknown>, subjectPart: string): Promise<void> {
  try {
    await what;
  } catch (err) {
    assert.match((err as Error).message, /Permissions Violation/);
    assert.ok((err as Error).message.includes(subjectPart), `error names ${subjectPart}: ${(err as Error).message}`);
    return;
  }
  assert.unreachable(`expected a permission violation on ${subjectPart}`);
}

test.before(async () => {
  server = await NatsServer.start({ extraConfig: renderAccountsConf(users) });
  const admin = await as(Users.admin);
  const jsm = await jetstreamManager(admin);
  await jsm.streams.add({ name: Streams.Events, subjects: [`${Subjects.events}.>`] });
  await jsm.streams.add({ name: Streams.Inbox, subjects: ["actors.>"], retention: RetentionPolicy.Workqueue });
  for (const a of actors) {
    await jsm.consumers.add(Streams.Inbox, {
      durable_name: Consumers.actor(a.name),
      filter_subject: Subjects.inboxAll(a.name),
      ack_policy: AckPolicy.Explicit,
    });
  }
  const js = jetstream(admin);
  await js.publish(Subjects.inbox("user-handler-1"), "for handler 1");
  await js.publish(Subjects.inbox("user-handler-2"), "for handler 2");
});

test.after(async () => {
  await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
  await server?.stop();
});

test("a user with a wrong password is refused", async () => {
  try {
    await connectNats({ servers: server.url, user: Users.publisher, pass: "wrong" }).then((nc) => (open.push(nc), nc));
    assert.unreachable("connected with a wrong password");
  } catch (err) {
    assert.match((err as Error).message, /Authorization Violation/i);
  }
});

test("the publisher publishes events.X and gets a JetStream ack", async () => {
  const pub = await as(Users.publisher);
  const ack = await jetstream(pub).publish("events.UserCreated", JSON.stringify({ user_id: "u1" }), { msgID: "evt-1" });
  assert.is(ack.stream, Streams.Events);
  assert.ok(ack.seq >= 1);
});

test("the bulk publisher (used by the router and EventBus) gets its acks under the user's own inbox prefix", async () => {
  const pub = await as(Users.publisher);
  // a short timeout and few attempts: with replies on a refused _INBOX subscription this fails in ~1 s
  const bulk = new BulkPublisher(pub, { ackTimeoutMs: 500, maxAttempts: 2 });
  const ack = await bulk.publish({ subject: "events.UserCreated", data: new TextEncoder().encode("{}") });
  await bulk.close();
  assert.is(ack.stream, Streams.Events);
  assert.ok(ack.seq >= 1);
});

test("the publisher cannot publish outside events.> (e.g. straight into an inbox)", async () => {
  const pub = await as(Users.publisher);
  await denied(jetstream(pub).publish(Subjects.inbox("user-handler-1"), "forged"), "actors.user-handler-1.0");
});

test("the publisher cannot read an inbox: no consumer API, no fetch, no subscription, no snooping on replies", async () => {
  const pub = await as(Users.publisher);
  await denied(jetstream(pub).consumers.get(Streams.Inbox, "user-handler-1"), `CONSUMER.INFO.${Streams.Inbox}.user-handler-1`);
  await denied(
    pub.request(`$JS.API.CONSUMER.MSG.NEXT.${Streams.Inbox}.user-handler-1`, JSON.stringify({ batch: 1 }), { timeout: 5000 }),
    "MSG.NEXT",
  );
  for (const subject of ["actors.>", "_INBOX.>", `_INBOX.${Users.actor("user-handler-1")}.>`]) {
    const sub = pub.subscribe(subject);
    const closedWith = (await sub.closed) as Error | void;
    assert.ok(closedWith, `subscription to ${subject} was closed by the server`);
    assert.match((closedWith as Error).message, /Permissions Violation for Subscription/);
  }
});

test("an actor cannot consume another actor's inbox (it may read the durable's info, never its messages)", async () => {
  const h2 = await as(Users.actor("user-handler-2"));
  // consumer info is allowed (the runtime's ensureInbox checks every configured durable), fetching is not
  const other = await jetstream(h2).consumers.get(Streams.Inbox, "user-handler-1");
  // the client reports the refused pull as missed heartbeats (or nothing): no message either way
  const stolen = await other.next({ expires: 2000 }).catch(() => null);
  assert.is(stolen, null, "no message delivered to another actor");
  await denied(
    h2.request(`$JS.API.CONSUMER.MSG.NEXT.${Streams.Inbox}.user-handler-1`, JSON.stringify({ batch: 1 }), { timeout: 5000 }),
    "MSG.NEXT",
  );
  await denied(h2.request(`$JS.ACK.${Streams.Inbox}.user-handler-1.1.1.1.0.0`, "+ACK", { timeout: 5000 }), "$JS.ACK");
  // nor create a consumer of its own over another actor's subjects
  await denied(
    jetstreamManager(h2).then((m) =>
      m.consumers.add(Streams.Inbox, {
        durable_name: "sneaky",
        filter_subject: Subjects.inboxAll("user-handler-1"),
        ack_policy: AckPolicy.Explicit,
      }),
    ),
    "CONSUMER",
  );
  const jsm = await jetstreamManager(await as(Users.admin));
  assert.is(
    (await jsm.consumers.info(Streams.Inbox, "user-handler-1")).num_pending,
    1,
    "handler 1's message is still waiting for handler 1",
  );
});

test("an actor consumes and acks its own inbox; the work queue is then empty for it", async () => {
  const h1 = await as(Users.actor("user-handler-1"));
  const c = await jetstream(h1).consumers.get(Streams.Inbox, Consumers.actor("user-handler-1"));
  const m = await c.next({ expires: 5000 });
  assert.is(m?.string(), "for handler 1");
  assert.ok(await m!.ackAck(), "ack confirmed");
  const jsm = await jetstreamManager(await as(Users.admin));
  await waitFor(async () => (await jsm.consumers.info(Streams.Inbox, "user-handler-1")).num_ack_pending === 0, "ack recorded");
  const info = await jsm.streams.info(Streams.Inbox, { subjects_filter: "actors.>" });
  assert.equal(info.state.subjects, { "actors.user-handler-2.0": 1 }, "only handler 2's message is left");
});

test("an actor may publish follow-up events and its own dead letters, nothing else", async () => {
  const h1 = await as(Users.actor("user-handler-1"));
  const ack = await jetstream(h1).publish("events.UserWelcomed", "{}");
  assert.is(ack.stream, Streams.Events);
  h1.publish(Subjects.deadLetter("user-handler-1"), "dead"); // no stream: plain publish is allowed, nothing to ack
  await h1.flush();
  await denied(h1.request(Subjects.deadLetter("email-handler"), "x", { timeout: 5000 }), "dlq.email-handler");
});

test("an actor uses its own processed-marker bucket and not another actor's", async () => {
  const h1 = await as(Users.actor("user-handler-1"));
  const own = await new Kvm(h1).create(Buckets.processed("user-handler-1"));
  await own.put("evt-1", JSON.stringify({ at: 1, attempts: 1, replica: "r1" }));
  assert.is((await own.get("evt-1"))?.json<{ attempts: number }>().attempts, 1);
  await denied(new Kvm(h1).create(Buckets.processed("email-handler")), `KV_${Buckets.processed("email-handler")}`);
});

test("a stateful actor commits its state, lists it and schedules and cancels timers with its own user; not another actor's", async () => {
  const actor = "user-handler-1";
  const h1 = await as(Users.actor(actor));
  // a refused subscription or a refused publish the runtime swallows (a consumer delete) still shows up here
  const violations: string[] = [];
  void (async () => {
    for await (const s of h1.status()) if (s.type === "error") violations.push(String(s.error));
  })();
  const store = await StateStore.open(h1, actor, { replicas: 1 });
  const timers = await Timers.open(h1, { replicas: 1 });
  const bus = new EventBus(h1);
  const ids: string[] = [];
  const run = statefulHandler<{ n: number }>(
    { key: "data.key", initial: { n: 0 } },
    async (e, ctx) => {
      const cancel = (e.data as { cancel?: string }).cancel;
      if (cancel) return ctx.cancel(cancel);
      ctx.state.set({ n: ctx.state.get().n + 1 });
      ids.push(ctx.schedule("Reminded", { key: "k" }, { in: "1h" }));
    },
    { actor, store, timers, publishEvent: (e) => bus.publishEvent(e), markerTtlMs: 3_600_000 },
  );
  const ctx: ActorContext = {
    actor,
    replica: "r1",
    deliveryCount: 1,
    streamSeq: 1,
    options: {},
    logger: createLogger({ level: "silent" }),
    publish: () => Promise.reject(new Error("not here")),
    working: () => undefined,
    signal: new AbortController().signal,
  };
  const counted = (data: Record<string, string>) => createEvent({ type: "Counted", data: { key: "k", ...data }, source: "test" });
  try {
    await run(counted({}), ctx);
    await run(counted({}), ctx);
    assert.equal((await store.read("k")).value, { n: 2 });
    assert.equal(await store.keys(), ["k"], "the ordered consumer read over s.> is allowed");
    assert.is((await store.history("k")).length, 2);
    assert.is(await timers.pending(actor), 2, "both timers are scheduled");
    await run(counted({ cancel: ids[0]! }), ctx);
    // the actor's user stores a cancel request; the relay, run by the router's user, purges the timer
    const relay = await startTimerRelay({ nc: await as(Users.router), logger: createLogger({ level: "silent" }), config: configFrom({}) });
    try {
      await waitFor(async () => (await timers.pending(actor)) === 1, "the relay to purge the cancelled timer", 10_000, 50);
    } finally {
      await relay.stop();
    }
    await h1.flush();
    assert.equal(violations, [], "no permission violation on the way");
  } finally {
    await bus.close();
  }
  const other = "email-handler";
  await denied(StateStore.open(h1, other, { replicas: 1 }), `KV_${Buckets.state(other)}`);
  await denied(h1.request(`$KV.${Buckets.state(other)}.s.x`, "{}", { timeout: 5000 }), `$KV.${Buckets.state(other)}`);
  const e = createEvent({ type: "Reminded", data: {}, source: "test" });
  await denied(timers.schedule(other, e.id, new Date(Date.now() + 3_600_000), e), Subjects.timerSchedule(other, ""));
  // nor cancel them: no cancel request on another actor's subjects, and no purge of the timer stream at all
  await denied(timers.cancel(other, e.id), Subjects.timerCancel(other, ""));
  await denied(
    jetstreamManager(h1).then((jsm) => jsm.streams.purge(Streams.Timers, { filter: Subjects.timerSchedule(other, ">") })),
    `STREAM.PURGE.${Streams.Timers}`,
  );
});

test("the router user runs the timer relay: it creates JETBUS_TIMERS and its durable, and stores a fired timer as an event", async () => {
  const router = await as(Users.router);
  const relay = await startTimerRelay({ nc: router, logger: createLogger({ level: "silent" }), config: configFrom({}) });
  try {
    const admin = await as(Users.admin);
    const event = createEvent({ type: "PaymentTimedOut", data: { order_id: "B" }, source: "test" });
    await (await Timers.open(admin, { replicas: 1 })).schedule("saga", `${event.id}`, new Date(Date.now() + 500), event);
    const jsm = await jetstreamManager(admin);
    const stored = await waitFor(
      () => jsm.streams.getMessage(Streams.Events, { last_by_subj: "events.PaymentTimedOut" }).catch(() => null),
      "the fired timer stored as an event",
      20_000,
      100,
    );
    assert.is(decodeEvent({ subject: stored.subject, data: stored.data, headers: stored.header, seq: stored.seq }).event.id, event.id);
  } finally {
    await relay.stop();
  }
});

test("the router user brings a timer relay durable from before cancel requests up to date (it filtered on fired timers only)", async () => {
  const admin = await as(Users.admin);
  await Timers.open(admin, { replicas: 1 });
  const jsm = await jetstreamManager(admin);
  await jsm.consumers.delete(Streams.Timers, Consumers.timerRelay).catch(() => undefined);
  await jsm.consumers.add(Streams.Timers, {
    durable_name: Consumers.timerRelay,
    filter_subject: Subjects.timerFireAll,
    ack_policy: AckPolicy.Explicit,
  });
  const relay = await startTimerRelay({ nc: await as(Users.router), logger: createLogger({ level: "silent" }), config: configFrom({}) });
  try {
    const ci = await jsm.consumers.info(Streams.Timers, Consumers.timerRelay);
    assert.equal(ci.config.filter_subjects, [Subjects.timerFireAll, Subjects.timerCancelAll]);
    assert.is(ci.config.filter_subject, undefined);
    // and it carries out a cancel request: the schedule is gone
    const timers = await Timers.open(admin, { replicas: 1 });
    const e = createEvent({ type: "Reminded", data: {}, source: "test" });
    await timers.schedule("saga", e.id, new Date(Date.now() + 3_600_000), e);
    assert.is(await timers.pending("saga"), 1);
    await timers.cancel("saga", e.id);
    await waitFor(async () => (await timers.pending("saga")) === 0, "the cancelled timer purged", 10_000, 50);
  } finally {
    await relay.stop();
  }
});

test("notifications: the publisher sends them, an actor receives them in its own queue group only, and follows the live config read-only", async () => {
  const pub = await as(Users.publisher);
  const h1 = await as(Users.actor("user-handler-1"));
  const got: string[] = [];
  const sub = h1.subscribe("notify.>", { queue: "jetbus-notify-user-handler-1", callback: (_e, m) => void got.push(m.subject) });
  await h1.flush();
  await new EventBus(pub).notify("PriceTicked", { p: 1 });
  await pub.flush();
  await waitFor(() => got.length === 1, "the notification received");
  sub.unsubscribe();
  // without its queue group (snooping on every notification) or in another actor's group: refused
  for (const queue of [undefined, "jetbus-notify-user-handler-2"]) {
    const s = h1.subscribe("notify.>", queue ? { queue } : {});
    const closedWith = (await s.closed) as Error | void;
    assert.match((closedWith as Error)?.message ?? "", /Permissions Violation for Subscription/, `queue ${queue}`);
  }
  // the actor reads the stored config (a watch) but cannot apply one
  const admin = await as(Users.admin);
  await new Kvm(jetstream(admin)).create(Buckets.Config, { history: 64 });
  const kv = await new Kvm(jetstream(h1)).open(Buckets.Config, { bindOnly: true });
  const watch = await kv.watch({ key: "routes" });
  watch.stop();
  await denied(kv.put("routes", "{}"), "$KV.jetbus-config.routes");
});

test("the start-up durability check works for role users, who may not list streams: it judges what they may read", async () => {
  const router = await as(Users.router);
  // EVENTS was added with server defaults, so it differs from the config's store settings
  const findings = await checkDurability(await jetstreamManager(router), configFrom({}));
  assert.ok(
    findings.some((f) => f.subject === Streams.Events && f.kind === FindingKind.ConfigDrift),
    JSON.stringify(findings),
  );
  const actor = await as(Users.actor("email-handler"));
  assert.ok(
    Array.isArray(await checkDurability(await jetstreamManager(actor), configFrom({}))),
    "an actor (no STREAM.INFO on EVENTS) gets an answer, not a permission error",
  );
});

test.run();
