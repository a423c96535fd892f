import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildStatusReport, renderStatus } from "../../runtime/operations/status.ts";
import { NOT_CREATED, type StatusFacts } from "../../runtime/operations/types.ts";

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
