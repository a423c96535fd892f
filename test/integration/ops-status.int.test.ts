import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, RetentionPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { configFrom } from "../../runtime/config/load.ts";
import { Buckets, Consumers, Streams, Subjects } from "../../runtime/topology.ts";
import { buildStatusReport } from "../../runtime/operations/status.ts";
import { gatherStatusFacts } from "../../runtime/operations/status-facts.ts";
import { NOT_CREATED } from "../../runtime/operations/types.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const config = configFrom({
  actors: [
    { name: "users", replicas: 2 },
    { name: "orders", ordered: { key: "correlationid", partitions: 2 } },
  ],
});

test("status on an empty server: everything is 'not created yet' and nothing gets created", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    const r = buildStatusReport(await gatherStatusFacts(nc, jsm, config));
    assert.is(r.inbox, NOT_CREATED);
    assert.is(r.deadLetter, NOT_CREATED);
    assert.is(r.presence, NOT_CREATED);
    assert.is(r.store.state, NOT_CREATED);
    assert.is(r.router.consumer.state, NOT_CREATED);
    assert.is(r.indexer.consumer.state, NOT_CREATED);
    assert.equal(
      r.actors.map((a) => [a.name, a.lag, a.replicas.live, a.dlq]),
      [
        ["users", null, 0, null],
        ["orders", null, 0, null],
      ],
    );
    const streams: string[] = [];
    for await (const s of jsm.streams.names()) streams.push(s);
    assert.equal(streams, [], "status is read-only");
  } finally {
    await stop();
  }
});

test("status reads lag, in-flight, redeliveries, DLQ counts, live replicas and the router's config revision", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: Streams.Inbox, subjects: ["actors.>"], retention: RetentionPolicy.Workqueue });
    await jsm.consumers.add(Streams.Inbox, {
      durable_name: Consumers.actor("users"),
      filter_subject: Subjects.inboxAll("users"),
      ack_policy: AckPolicy.Explicit,
      ack_wait: 60_000_000_000,
    });
    await jsm.consumers.add(Streams.Inbox, {
      durable_name: Consumers.actorPartition("orders", 1),
      filter_subject: Subjects.inbox("orders", 1),
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 1,
    });
    for (let i = 0; i < 3; i++) await js.publish(Subjects.inbox("users"), `u${i}`);
    await js.publish(Subjects.inbox("orders", 1), "o1");
    // take one users message without acking: it is in flight
    const users = await js.consumers.get(Streams.Inbox, "users");
    const inFlight = await users.next({ expires: 5000 });
    assert.ok(inFlight);

    await jsm.streams.add({ name: Streams.DeadLetter, subjects: ["dlq.>"] });
    await js.publish(Subjects.deadLetter("users"), "dead");
    await js.publish(Subjects.deadLetter("users"), "dead too");

    await jsm.streams.add({ name: config.store.stream, subjects: ["events.>"] });
    await js.publish("events.UserCreated", "{}");
    await js.publish("events.UserCreated", "{}");
    await jsm.consumers.add(config.store.stream, { durable_name: Consumers.router, ack_policy: AckPolicy.Explicit });

    const kvm = new Kvm(nc);
    const presence = await kvm.create(Buckets.Presence, { ttl: 10_000 });
    const now = new Date().toISOString();
    await presence.put(
      "actor.users.r1",
      JSON.stringify({ role: "actor", name: "users", replica: "r1", host: "h", pid: 1, startedAt: now, inFlight: 1 }),
    );
    await presence.put(
      "actor.users.r2",
      JSON.stringify({ role: "actor", name: "users", replica: "r2", host: "h", pid: 2, startedAt: now, inFlight: 0 }),
    );
    await presence.delete("actor.users.r2"); // a replica that stopped cleanly
    const cfg = await kvm.create(Buckets.Config);
    const rev1 = await cfg.put("routes", "{}");
    await presence.put(
      "router.ra",
      JSON.stringify({
        role: "router",
        name: "router",
        replica: "ra",
        host: "h",
        pid: 3,
        startedAt: now,
        inFlight: 0,
        configRevision: rev1,
      }),
    );
    const rev2 = await cfg.put("routes", "{}");
    await presence.put("router.rb", JSON.stringify({ role: "router", replica: "rb", configRevision: rev2 }));

    const r = await waitFor(
      async () => {
        const rep = buildStatusReport(await gatherStatusFacts(nc, jsm, config));
        return rep.actors[0]!.inFlight === 1 ? rep : null;
      },
      "users message in flight",
      30_000,
    );
    const [u, o] = r.actors;
    assert.equal([u!.lag, u!.inFlight, u!.redeliveries, u!.dlq], [2, 1, 0, 2]);
    assert.equal(
      u!.replicas.list.map((x) => x.id),
      ["r1"],
    );
    assert.equal([o!.lag, o!.dlq], [1, 0]);
    assert.equal(
      o!.consumers.map((c) => [c.name, c.state]),
      [
        ["orders-p0", NOT_CREATED],
        ["orders-p1", "ok"],
      ],
    );
    assert.is(r.router.latestConfigRevision, rev2);
    assert.equal(r.router.replicas.map((x) => [x.id, x.configRevision]).sort(), [
      ["ra", rev1],
      ["rb", rev2],
    ]);
    assert.equal(r.router.staleReplicas, ["ra"]);
    assert.equal([r.router.consumer.state, r.router.consumer.pending], ["ok", 2]);
    assert.is(r.indexer.consumer.state, NOT_CREATED);
    assert.equal([r.store.state, r.store.messages, r.store.lastSeq], ["ok", 2, 2]);

    // a nak makes a redelivery visible
    inFlight!.nak();
    // the nak'd message comes back among the others (order is up to the server)
    const seen: boolean[] = [];
    for await (const m of await users.fetch({ max_messages: 3, expires: 5000 })) seen.push(m.redelivered);
    assert.equal(seen.filter(Boolean).length, 1);
    const r2 = await waitFor(
      async () => {
        const rep = buildStatusReport(await gatherStatusFacts(nc, jsm, config));
        return rep.actors[0]!.redeliveries === 1 ? rep : null;
      },
      "redelivery counted",
      30_000,
    );
    assert.is(r2.actors[0]!.redeliveries, 1);
  } finally {
    await stop();
  }
});

test.run();
