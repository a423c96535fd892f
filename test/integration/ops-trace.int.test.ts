import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { tokenFor } from "../../runtime/events/subjects.ts";
import type { Event } from "../../runtime/events/types.ts";
import { ensureStore } from "../../runtime/store/mod.ts";
import { Buckets, JetbusHeaders, Streams, Subjects } from "../../runtime/topology.ts";
import { buildTraceTree, renderTrace } from "../../runtime/operations/trace.ts";
import { gatherTraceFacts } from "../../runtime/operations/trace-facts.ts";
import { storeCorrelationLookup } from "../../runtime/operations/store-lookup.ts";
import type { TraceNode } from "../../runtime/operations/types.ts";
import { startServer } from "../helpers/nats.ts";

const config = configFrom({ actors: [{ name: "users" }, { name: "mailer" }] });

async function store(nc: NatsConnection, e: Event): Promise<number> {
  const w = encodeEvent(e);
  return (await jetstream(nc).publish(w.subject, w.data, { headers: w.headers })).seq;
}

const shape = (nodes: readonly TraceNode[]): unknown =>
  nodes.map((n) => (n.children.length ? [n.event.type, shape(n.children)] : n.event.type));

test("trace builds the causal tree from the store, with markers and dead letters per event", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStore(jsm, config.store);
    const root = createEvent({ type: "UserCreated", data: { user: "u1" }, correlationid: "flow-1" });
    const welcome = createEvent({ type: "WelcomeMailQueued", data: {}, correlationid: "flow-1", causationid: root.id });
    const profile = createEvent({ type: "ProfileCreated", data: {}, correlationid: "flow-1", causationid: root.id });
    const sent = createEvent({ type: "WelcomeMailSent", data: {}, correlationid: "flow-1", causationid: welcome.id });
    const other = createEvent({ type: "UserCreated", data: {}, correlationid: "flow-2" });
    const seqs: Record<string, number> = {};
    for (const e of [root, welcome, other, profile, sent]) seqs[e.id] = await store(nc, e);

    const kvm = new Kvm(nc);
    const users = await kvm.create(Buckets.processed("users"));
    await users.put(tokenFor(root.id), JSON.stringify({ at: "2026-01-01T00:00:01.000Z", attempts: 1, replica: "users-r1" }));
    await users.put(tokenFor(other.id), JSON.stringify({ at: "2026-01-01T00:00:02.000Z", attempts: 1, replica: "users-r1" }));
    const mailer = await kvm.create(Buckets.processed("mailer"));
    await mailer.put(tokenFor(root.id), JSON.stringify({ at: "2026-01-01T00:00:03.000Z", attempts: 3, replica: "mailer-r2" }));

    await jsm.streams.add({ name: Streams.DeadLetter, subjects: ["dlq.>"] });
    for (const [e, error] of [
      [welcome, "smtp down"],
      [other, "not this flow"],
    ] as const) {
      const w = encodeEvent(e, { subject: Subjects.deadLetter("mailer"), msgId: `${e.id}:mailer:dlq` });
      w.headers.set(JetbusHeaders.Actor, "mailer");
      w.headers.set(JetbusHeaders.Attempts, "5");
      w.headers.set(JetbusHeaders.Error, error);
      w.headers.set(JetbusHeaders.ErrorCode, "SMTP");
      w.headers.set(JetbusHeaders.OriginSeq, String(seqs[e.id]));
      await jetstream(nc).publish(w.subject, w.data, { headers: w.headers });
    }

    const facts = await gatherTraceFacts(nc, jsm, {
      correlationId: "flow-1",
      lookup: storeCorrelationLookup(nc, jsm, config.store),
      actors: config.actors.map((a) => a.name),
    });
    const tree = buildTraceTree(facts);
    assert.is(tree.events, 4);
    assert.equal(shape(tree.roots), [["UserCreated", [["WelcomeMailQueued", ["WelcomeMailSent"]], "ProfileCreated"]]]);
    const top = tree.roots[0]!;
    assert.is(top.seq, seqs[root.id]);
    assert.equal(
      top.handled.map((h) => [h.actor, h.attempts, h.replica]),
      [
        ["mailer", 3, "mailer-r2"],
        ["users", 1, "users-r1"],
      ],
    );
    const queued = top.children[0]!;
    assert.equal(
      queued.deadLetters.map((d) => [d.actor, d.attempts, d.error, d.errorCode]),
      [["mailer", 5, "smtp down", "SMTP"]],
    );
    assert.is(tree.deadLettered, 1, "the other correlation's dead letter is not shown");
    const text = renderTrace(tree);
    assert.match(text, /✓ mailer handled at 2026-01-01T00:00:03.000Z after 3 attempt\(s\) by mailer-r2/);
    assert.match(text, /✗ mailer dead-lettered .* after 5 attempt\(s\): smtp down \[SMTP\]/);
  } finally {
    await stop();
  }
});

test("trace of an unknown correlation, or on a server without a store, finds nothing and creates nothing", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    const facts = await gatherTraceFacts(nc, jsm, {
      correlationId: "nope",
      lookup: storeCorrelationLookup(nc, jsm, config.store),
      actors: ["users"],
    });
    assert.equal(facts.events, []);
    const names: string[] = [];
    for await (const s of jsm.streams.names()) names.push(s);
    assert.equal(names, []);
  } finally {
    await stop();
  }
});

test.run();
