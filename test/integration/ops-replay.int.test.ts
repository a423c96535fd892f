import { test } from "uvu";
import * as assert from "uvu/assert";
import { RetentionPolicy, jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { Header } from "../../runtime/events/headers.ts";
import { Kvm } from "@nats-io/kv";
import { Buckets, JetbusHeaders, Streams, partitionOf } from "../../runtime/topology.ts";
import { ROUTES_KEY, liveConfig } from "../../runtime/operations/live-config.ts";
import { replayMsgId, replayToActor } from "../../runtime/operations/replay.ts";
import { replayTargetFor } from "../../runtime/operations/replay-target.ts";
import { UnknownActorError } from "../../runtime/errors.ts";
import { clearUpcasters, useUpcasters } from "../../runtime/events/versions/registry.ts";
import { defineUpcasters } from "../../runtime/events/versions/upcasters.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const config = configFrom({
  actors: [{ name: "projector" }, { name: "mailer" }, { name: "ledger", ordered: { key: "correlationid", partitions: 4 } }],
});

async function setUp(nc: NatsConnection): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: config.store.stream, subjects: ["events.>"] });
  await jsm.streams.add({ name: Streams.Inbox, subjects: ["actors.>"], retention: RetentionPolicy.Workqueue });
  return jsm;
}

async function publishEvents(nc: NatsConnection, n: number, prefix: string): Promise<{ id: string; seq: number; time: Date }[]> {
  const js = jetstream(nc);
  const out = [];
  for (let i = 0; i < n; i++) {
    const e = createEvent({ type: "UserCreated", data: { i }, id: `${prefix}-${i}`, correlationid: `corr-${prefix}-${i}` });
    const w = encodeEvent(e);
    const ack = await js.publish(w.subject, w.data, { headers: w.headers });
    const stored = await (await jetstreamManager(nc)).streams.getMessage(config.store.stream, { seq: ack.seq });
    out.push({ id: e.id, seq: ack.seq, time: stored!.time });
  }
  return out;
}

async function inboxCount(jsm: JetStreamManager, filter: string): Promise<number> {
  const info = await jsm.streams.info(Streams.Inbox, { subjects_filter: filter });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
}

test("replay from a sequence sends that range to one actor's inbox only, keeping ids and marking the run", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await setUp(nc);
    const events = await publishEvents(nc, 5, "s");
    const summary = await replayToActor(nc, jsm, replayTargetFor(config, "projector", { all: true }), {
      storeStream: config.store.stream,
      from: { seq: 2 },
      to: { seq: 4 },
      runId: "run1",
    });
    assert.equal([summary.scanned, summary.replayed, summary.skipped, summary.firstSeq, summary.lastSeq], [3, 3, 0, 2, 4]);
    assert.is(await inboxCount(jsm, "actors.projector.>"), 3);
    assert.is(await inboxCount(jsm, "actors.mailer.>"), 0, "the other actor's inbox is untouched");
    const first = await jsm.streams.getMessage(Streams.Inbox, { last_by_subj: "actors.projector.0" });
    assert.is(first!.header.get(Header.Id), events[3]!.id, "the copy keeps the event id");
    assert.is(first!.header.get(Header.MsgId), replayMsgId(events[3]!.id, "projector", "run1"));
    assert.is(first!.header.get(JetbusHeaders.Replay), "run1");
    assert.is(first!.header.get(JetbusHeaders.OriginSeq), String(events[3]!.seq));

    // the same run id again inside the duplicate window: the inbox dedupes every copy
    const again = await replayToActor(nc, jsm, replayTargetFor(config, "projector", { all: true }), {
      storeStream: config.store.stream,
      from: { seq: 2 },
      to: { seq: 4 },
      runId: "run1",
    });
    assert.equal([again.replayed, again.duplicates], [3, 3]);
    assert.is(await inboxCount(jsm, "actors.projector.>"), 3);
    // a new run id sends fresh copies
    const fresh = await replayToActor(nc, jsm, replayTargetFor(config, "projector", { all: true }), {
      storeStream: config.store.stream,
      from: { seq: 5 },
    });
    assert.equal([fresh.replayed, fresh.duplicates, fresh.firstSeq], [1, 0, 5]);
    assert.is(await inboxCount(jsm, "actors.projector.>"), 4);
  } finally {
    await stop();
  }
});

test("replay from a time starts at the first event stored at or after it; ordered actors get their partition subject", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await setUp(nc);
    const early = await publishEvents(nc, 2, "early");
    const from = new Date(early[1]!.time.getTime() + 1);
    await waitFor(() => Date.now() > from.getTime() + 1, "the clock to pass the replay start");
    const late = await publishEvents(nc, 3, "late");
    const summary = await replayToActor(nc, jsm, replayTargetFor(config, "ledger", { all: true }), {
      storeStream: config.store.stream,
      from: { time: from },
    });
    assert.equal([summary.scanned, summary.replayed, summary.firstSeq, summary.lastSeq], [3, 3, late[0]!.seq, late[2]!.seq]);
    for (let i = 0; i < 3; i++) {
      const p = partitionOf(`corr-late-${i}`, 4);
      const copy = await jsm.streams.getMessage(Streams.Inbox, { last_by_subj: `actors.ledger.${p}` });
      assert.ok(copy, `partition ${p} holds a copy`);
    }
    assert.is(await inboxCount(jsm, "actors.ledger.>"), 3);
    assert.is(await inboxCount(jsm, "actors.projector.>"), 0);
    // a time after everything: nothing to do, and it returns promptly
    const none = await replayToActor(nc, jsm, replayTargetFor(config, "ledger", { all: true }), {
      storeStream: config.store.stream,
      from: { time: new Date(Date.now() + 60_000) },
    });
    assert.is(none.replayed, 0);
  } finally {
    await stop();
  }
});

test("without --all the current rules decide: only events routed to the actor, transformed as live routing would", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await setUp(nc);
    const js = jetstream(nc);
    const local = configFrom({
      actors: [{ name: "projector" }, { name: "mailer" }],
      routes: {
        rules: [
          { name: "to-projector", match: { type: "UserCreated" }, to: ["projector"], transform: { pick: ["name"] } },
          { match: { type: "OrderPlaced" }, to: ["mailer"] },
        ],
      },
    });
    for (const e of [
      createEvent({ type: "UserCreated", data: { name: "ann", secret: 1 } }),
      createEvent({ type: "OrderPlaced", data: {} }),
      createEvent({ type: "UserCreated", data: { name: "bob", secret: 2 } }),
    ]) {
      const w = encodeEvent(e);
      await js.publish(w.subject, w.data, { headers: w.headers });
    }
    const live = await liveConfig(jsm, local);
    assert.equal([live.revision, live.source], [null, "local config"]);
    const s = await replayToActor(nc, jsm, replayTargetFor(live.config, "projector"), {
      storeStream: local.store.stream,
      from: { seq: 1 },
    });
    assert.equal([s.scanned, s.replayed, s.skipped], [3, 2, 1]);
    const copy = await jsm.streams.getMessage(Streams.Inbox, { last_by_subj: "actors.projector.0" });
    assert.equal(JSON.parse(new TextDecoder().decode(copy!.data)), { name: "bob" });
    assert.is(copy!.header.get(JetbusHeaders.Rule), "to-projector");
    assert.is(await inboxCount(jsm, "actors.mailer.>"), 0);

    // rules applied to KV jetbus-config win over the local file: now OrderPlaced goes to projector too
    const kv = await new Kvm(nc).create(Buckets.Config);
    const rev = await kv.put(
      ROUTES_KEY,
      JSON.stringify({ ...local, routes: { mode: "all-matches", rules: [{ match: { type: "OrderPlaced" }, to: ["projector"] }] } }),
    );
    const applied = await liveConfig(jsm, local);
    assert.is(applied.revision, rev);
    const s2 = await replayToActor(nc, jsm, replayTargetFor(applied.config, "projector", { revision: rev }), {
      storeStream: local.store.stream,
      from: { seq: 1 },
    });
    assert.equal([s2.replayed, s2.skipped], [1, 2]);
    assert.is(await inboxCount(jsm, "actors.projector.>"), 3);
  } finally {
    await stop();
  }
});

test("an event stored at an old version is replayed at the latest: the rules (written for it) select and transform it upcast", async () => {
  const { nc, stop } = await startServer();
  useUpcasters(defineUpcasters({ Deposited: { 1: (d: { amount: number }) => ({ ...d, currency: "EUR" }) } }));
  try {
    const jsm = await setUp(nc);
    const js = jetstream(nc);
    const local = configFrom({
      actors: [{ name: "projector" }],
      routes: {
        rules: [
          {
            name: "eur",
            match: { type: "Deposited", data: { exists: ["currency"] } },
            to: ["projector"],
            transform: { pick: ["currency"] },
          },
        ],
      },
    });
    const old = encodeEvent(createEvent({ type: "Deposited", data: { amount: 3 }, dataversion: 1 }));
    await js.publish(old.subject, old.data, { headers: old.headers });
    const s = await replayToActor(nc, jsm, replayTargetFor(local, "projector"), { storeStream: local.store.stream, from: { seq: 1 } });
    assert.equal([s.scanned, s.replayed, s.skipped, s.malformed], [1, 1, 0, 0]);
    const copy = await jsm.streams.getMessage(Streams.Inbox, { last_by_subj: "actors.projector.0" });
    assert.equal(JSON.parse(new TextDecoder().decode(copy!.data)), { currency: "EUR" });
    assert.is(copy!.header.get(Header.DataVersion), "2");
  } finally {
    clearUpcasters();
    await stop();
  }
});

test("an unknown actor is a typed error before anything is read", () => {
  assert.throws(
    () => replayTargetFor(config, "nobody", { all: true }),
    (e: unknown) => e instanceof UnknownActorError && /projector, mailer, ledger/.test((e as Error).message),
  );
});

test.run();
