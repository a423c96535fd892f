import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildStatusReport, renderStatus } from "../../runtime/operations/status.ts";
import { NOT_CREATED, NO_ANSWER, type StatusFacts } from "../../runtime/operations/types.ts";
import { isLive, processGone, staleAfterMs } from "../../runtime/presence/liveness.ts";

const at = new Date("2026-01-01T00:00:30Z");
const ago = (s: number) => new Date(at.getTime() - s * 1000);

function facts(over: Partial<StatusFacts> = {}): StatusFacts {
  return {
    at,
    actors: [
      { name: "users", replicas: 2 },
      { name: "orders", replicas: 1, partitions: 2 },
    ],
    presence: [],
    inboxExists: true,
    inboxConsumers: {},
    dlq: {},
    store: { stream: "EVENTS", messages: 0, lastSeq: 0, bytes: 0 },
    router: null,
    indexer: null,
    configRevision: null,
    ...over,
  };
}

test("nothing created yet: every part says so, sums are null, nothing throws", () => {
  const r = buildStatusReport(facts({ presence: null, inboxExists: false, dlq: null, store: { stream: "EVENTS", missing: true } }));
  assert.is(r.inbox, NOT_CREATED);
  assert.is(r.deadLetter, NOT_CREATED);
  assert.is(r.presence, NOT_CREATED);
  assert.is(r.store.state, NOT_CREATED);
  assert.is(r.router.consumer.state, NOT_CREATED);
  assert.equal(
    r.actors.map((a) => [a.name, a.lag, a.dlq, a.replicas.live]),
    [
      ["users", null, null, 0],
      ["orders", null, null, 0],
    ],
  );
  assert.equal(
    r.actors[1]!.consumers.map((c) => c.name),
    ["orders-p0", "orders-p1"],
  );
  const text = renderStatus(r);
  assert.match(text, /consumer jetbus-router not created yet/);
  assert.match(text, /EVENTS: not created yet/);
});

test("lag, in-flight and redeliveries sum over an ordered actor's partition durables; DLQ counts per actor", () => {
  const r = buildStatusReport(
    facts({
      inboxConsumers: {
        users: { pending: 3, ackPending: 2, redelivered: 1 },
        "orders-p0": { pending: 4, ackPending: 1, redelivered: 0 },
        "orders-p1": { pending: 6, ackPending: 0, redelivered: 5 },
      },
      dlq: { "dlq.users": 7 },
    }),
  );
  const [users, orders] = r.actors;
  assert.equal([users!.lag, users!.inFlight, users!.redeliveries, users!.dlq], [3, 2, 1, 7]);
  assert.equal([orders!.lag, orders!.inFlight, orders!.redeliveries, orders!.dlq], [10, 1, 5, 0]);
});

test("one missing partition durable is reported, the others still sum", () => {
  const r = buildStatusReport(facts({ inboxConsumers: { "orders-p0": { pending: 4, ackPending: 1, redelivered: 0 } } }));
  const orders = r.actors[1]!;
  assert.is(orders.lag, 4);
  assert.equal(
    orders.consumers.map((c) => c.state),
    ["ok", NOT_CREATED],
  );
  assert.match(renderStatus(r), /orders .*1\/2 not created yet/);
});

test("only recent heartbeats count as live replicas; router replicas with an old config revision are stale", () => {
  const r = buildStatusReport(
    facts({
      presence: [
        { key: "actor.users.r1", value: { role: "actor", name: "users", replica: "r1", host: "h1", pid: 10 }, at: ago(2) },
        { key: "actor.users.r2", value: {}, at: ago(5) },
        { key: "actor.users.r3", value: {}, at: ago(60) },
        { key: "actor.orders.r9", value: {}, at: ago(1) },
        { key: "router.ra", value: { role: "router", replica: "ra", configRevision: 4 }, at: ago(1) },
        { key: "router.rb", value: { configRevision: 3 }, at: ago(1) },
      ],
      configRevision: 4,
    }),
  );
  assert.equal(
    r.actors[0]!.replicas.list.map((x) => x.id),
    ["r1", "r2"],
  );
  assert.is(r.actors[0]!.replicas.desired, 2);
  assert.is(r.actors[1]!.replicas.live, 1);
  assert.equal(
    r.router.replicas.map((x) => [x.id, x.configRevision]),
    [
      ["ra", 4],
      ["rb", 3],
    ],
  );
  assert.equal(r.router.staleReplicas, ["rb"]);
  assert.match(renderStatus(r), /rb: config revision 3.*STALE/);
});

test("a killed replica stops counting at once when its process is known gone, else after 3 missed beats of its own period", () => {
  const r = buildStatusReport(
    facts({
      presence: [
        // the replica killed with kill -9 (status runs on its host: its pid is gone), and the one restarted after it
        { key: "actor.users.h-10-0", value: { role: "actor", name: "users", host: "h", pid: 10 }, at: ago(1), gone: true },
        { key: "actor.users.h-11-0", value: { role: "actor", name: "users", host: "h", pid: 11 }, at: ago(1) },
        // a fast beater (0.5 s) silent for 3 s: gone (3 x 0.5 s + 1 s); a default one (2 s) silent for 6 s: still live
        { key: "actor.orders.f", value: { role: "actor", name: "orders", host: "x", pid: 5, everyMs: 500 }, at: ago(3) },
        { key: "actor.orders.d", value: { role: "actor", name: "orders", host: "x", pid: 6 }, at: ago(6) },
      ],
    }),
  );
  assert.equal(
    r.actors[0]!.replicas.list.map((x) => x.id),
    ["h-11-0"],
  );
  assert.equal(
    r.actors[1]!.replicas.list.map((x) => x.id),
    ["d"],
  );
  assert.is(staleAfterMs(), 7_000);
  assert.not.ok(isLive({ value: {}, at: ago(8) }, at.getTime()));
});

test("REPLICAS counts live workers and PROCESSES the processes they run in: two processes of one replica read 2 and 2", () => {
  const worker = (name: string, host: string, pid: number, n: number) => ({
    key: `actor.${name}.${host}-${pid}-${n}`,
    value: { role: "actor", name, host, pid, pidns: "pid:[1]" },
    at: ago(1),
  });
  const r = buildStatusReport(
    facts({ presence: [worker("users", "a", 1, 0), worker("users", "b", 1, 0), worker("orders", "a", 1, 1), worker("orders", "a", 1, 2)] }),
  );
  assert.equal(
    r.actors.map((a) => [a.name, a.replicas.live, a.replicas.processes, a.replicas.desired]),
    [
      ["users", 2, 2, 2],
      ["orders", 2, 1, 1],
    ],
  );
  const text = renderStatus(r);
  assert.match(text, /^ACTOR\s+REPLICAS\s+PROCESSES\s+LAG/m);
  assert.match(text, /^users\s+2\s+2\s/m);
  assert.match(text, /^orders\s+2\s+1\s/m);
  assert.not.match(text, /\d\/\d\s/, "no live/desired fraction: the config's replicas is per process");
});

test("processGone: only an entry of this host and pid namespace whose pid is gone", () => {
  const place = { host: "h", pidns: "pid:[7]" };
  const dead = () => false;
  const alive = () => true;
  assert.ok(processGone({ host: "h", pidns: "pid:[7]", pid: 42 }, place, dead));
  assert.not.ok(processGone({ host: "h", pidns: "pid:[7]", pid: 42 }, place, alive), "alive");
  assert.not.ok(processGone({ host: "other", pidns: "pid:[7]", pid: 42 }, place, dead), "another host");
  assert.not.ok(processGone({ host: "h", pidns: "pid:[8]", pid: 42 }, place, dead), "another container on the host");
  assert.not.ok(processGone({ host: "h", pid: 42 }, place, dead), "an entry without a pid namespace");
  assert.not.ok(processGone({ host: "h", pidns: "pid:[7]" }, place, dead), "no pid");
  assert.not.ok(processGone({ host: "h", pidns: "pid:[7]", pid: 42 }, { host: "h" }, dead), "a reader that cannot compare pids");
});

test("nats: a node every replica group has not heard from for 5 s is DOWN; a leader is up; a lagging follower catches up", () => {
  const peer = (name: string, activeMs: number, current = true) => ({ name, current, activeMs });
  const r = buildStatusReport(
    facts({
      nats: {
        connectedTo: "n2",
        placements: [
          { stream: "EVENTS", cluster: "c1", leader: "n2", peers: [peer("n1", 12_300, false), peer("n3", 300)] },
          { stream: "JETBUS_INBOX", cluster: "c1", leader: "n3", peers: [peer("n1", 12_100, false), peer("n2", 200)] },
          { stream: "JETBUS_DLQ", cluster: "c1", leader: "n2", peers: [peer("n4", 400, false), peer("n3", 100)] },
        ],
      },
    }),
  );
  assert.equal(r.nats, {
    connectedTo: "n2",
    cluster: "c1",
    nodes: [
      { name: "n1", state: "down", silentMs: 12_100 },
      { name: "n2", state: "ok" },
      { name: "n3", state: "ok" },
      { name: "n4", state: "behind" },
    ],
  });
  assert.match(renderStatus(r), "nats:    connected to n2; cluster c1: n1 DOWN (no word for 12.1 s), n2 ok, n3 ok, n4 catching up");
  const single = buildStatusReport(facts({ nats: { connectedTo: "solo", placements: [{ stream: "EVENTS", leader: "solo", peers: [] }] } }));
  assert.match(renderStatus(single), /^nats: {4}connected to solo$/m);
});

test("a read with no answer (leader election) is unknown, not missing: the rest renders, and the nodes are judged without it", () => {
  const noAnswer = { noAnswer: true, waitedMs: 5_004 } as const;
  const r = buildStatusReport(
    facts({
      store: { stream: "EVENTS", unanswered: noAnswer },
      router: noAnswer,
      orderedRouter: noAnswer,
      indexer: noAnswer,
      presence: noAnswer,
      inboxConsumers: { users: { pending: 3, ackPending: 0, redelivered: 0 } },
      configRevision: noAnswer,
      setAside: { quarantine: 2, unrouted: noAnswer },
      nats: {
        connectedTo: "n2",
        unanswered: ["EVENTS"],
        placements: [{ stream: "JETBUS_INBOX", cluster: "c1", leader: "n2", peers: [{ name: "n1", current: false, activeMs: 6_200 }] }],
      },
    }),
  );
  assert.is(r.store.state, NO_ANSWER);
  assert.is(r.router.consumer.state, NO_ANSWER);
  assert.is(r.presence, NO_ANSWER);
  assert.is(r.router.configRevisionUnknown, true);
  assert.equal(r.setAside, { quarantined: 2, unrouted: null });
  assert.equal(r.unanswered, {
    parts: [
      "stream EVENTS",
      "KV jetbus-presence",
      "consumer jetbus-router",
      "consumer jetbus-router-ordered",
      "consumer jetbus-indexer",
      "KV jetbus-config",
      "stream JETBUS_UNROUTED",
    ],
    waitedMs: 5_004,
  });
  assert.is(r.actors[0]!.lag, 3, "what answered is still reported");
  assert.equal(r.nats!.nodes, [
    { name: "n1", state: "down", silentMs: 6_200 },
    { name: "n2", state: "ok" },
  ]);
  const text = renderStatus(r);
  assert.match(text, /^indexer: lag \? \(consumer jetbus-indexer: no answer\)$/m);
  assert.match(text, /^store: {3}EVENTS: no answer in 5\.0 s \(leader election\?\)$/m);
  assert.match(text, /^users\s+\?\s+\?\s+3\s/m, "replicas unknown, not 0");
  assert.match(text, /router: .*config revision unknown \(no answer\), lag \? \(consumer jetbus-router: no answer\)/);
  assert.match(text, /^nats: {4}connected to n2; cluster c1: n1 DOWN \(no word for 6\.2 s\), n2 ok \(without EVENTS: no answer\)$/m);
  assert.match(text, /^no answer in 5\.0 s \(leader election\?\): stream EVENTS, KV jetbus-presence, .*; the rest is as read$/m);
  assert.not.match(text, /not created yet: .*presence/, "no answer is not 'not created'");
  assert.match(text, /^set aside: 2 quarantined .*, \? unrouted/m);
  assert.not.match(text, /ordered lane/);
  const blind = buildStatusReport(facts({ nats: { connectedTo: "n2", unanswered: ["EVENTS"], placements: [] } }));
  assert.match(renderStatus(blind), /^nats: {4}connected to n2; nodes unknown \(without EVENTS: no answer\)$/m);
});

test("a leader elected after a node died never heard from it (active 0, not current): silent since the election", () => {
  const since = new Date(at.getTime() - 6_000);
  const placement = (leaderSince?: Date) => ({
    stream: "EVENTS",
    cluster: "c1",
    leader: "n3",
    ...(leaderSince ? { leaderSince } : {}),
    peers: [
      { name: "n1", current: false, activeMs: 0 },
      { name: "n2", current: true, activeMs: 120 },
    ],
  });
  const r = buildStatusReport(facts({ nats: { connectedTo: "n3", placements: [placement(since)] } }));
  assert.equal(r.nats!.nodes[0], { name: "n1", state: "down", silentMs: 6_000 });
  const fresh = buildStatusReport(facts({ nats: { connectedTo: "n3", placements: [placement(new Date(at.getTime() - 1_000))] } }));
  assert.equal(fresh.nats!.nodes[0], { name: "n1", state: "behind" }, "a leader of 1 s may not have heard yet");
  const unknownSince = buildStatusReport(facts({ nats: { connectedTo: "n3", placements: [placement()] } }));
  assert.equal(unknownSince.nats!.nodes[0], { name: "n1", state: "behind" }, "an older server without leader_since: as before");
});

test("the ordered lane shows its lease holder and lag once it exists; nothing about it before", () => {
  assert.is(buildStatusReport(facts()).router.orderedLane, undefined);
  assert.not.match(renderStatus(buildStatusReport(facts())), /ordered lane/);
  const held = buildStatusReport(facts({ orderedRouter: { pending: 5, ackPending: 2, redelivered: 0 }, orderedLaneHolder: "ra" }));
  assert.equal(held.router.orderedLane, {
    holder: "ra",
    consumer: { name: "jetbus-router-ordered", state: "ok", pending: 5, ackPending: 2, redelivered: 0 },
  });
  assert.match(renderStatus(held), /ordered lane: held by ra, lag 5 pending, 2 in flight/);
  const failover = buildStatusReport(facts({ orderedRouter: { pending: 9, ackPending: 0, redelivered: 0 }, orderedLaneHolder: null }));
  assert.match(renderStatus(failover), /ordered lane: no holder/);
});

test.run();
