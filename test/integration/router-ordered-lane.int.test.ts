import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager, type StoredMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { ConfigStore } from "../../runtime/routing/config-store.ts";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Consumers, JetbusHeaders, Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { event, header, json, readAll, routerDeps, testConfig } from "../fixtures/router-support.ts";

const KEYS = 12;
const TOTAL = 3000;
const PARTITIONS = 4;
const config = testConfig({
  actors: [{ name: "audit" }, { name: "ledger", ordered: { key: "data.account", partitions: PARTITIONS } }],
  routes: { rules: [{ name: "payments", match: { type: "Payment" }, to: ["ledger", "audit"] }] },
});

type Replica = { nc: NatsConnection; router: RouterHandle };

/** Per partition subject: the origin sequences of the copies, in inbox order. */
function originSeqsBySubject(copies: readonly StoredMsg[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of copies) out.set(m.subject, [...(out.get(m.subject) ?? []), Number(header(m, JetbusHeaders.OriginSeq))]);
  return out;
}

function assertOrderedAndOnce(copies: readonly StoredMsg[], what: string): void {
  const ledger = copies.filter((m) => m.subject.startsWith("actors.ledger."));
  const ids = ledger.map((m) => header(m, "Nats-Msg-Id"));
  assert.is(new Set(ids).size, ids.length, `${what}: each ledger copy once`);
  for (const [subject, seqs] of originSeqsBySubject(ledger)) {
    const outOfOrder = seqs.findIndex((s, i) => i > 0 && s <= seqs[i - 1]!);
    assert.is(
      outOfOrder,
      -1,
      `${what}: ${subject} in stream order (first break at index ${outOfOrder}: ${seqs.slice(Math.max(0, outOfOrder - 2), outOfOrder + 2).join(",")})`,
    );
  }
  // per key, the copies follow the data's own counter (published in stream order per key)
  const byKey = new Map<string, number[]>();
  for (const m of ledger) {
    const d = json(m) as { account: string; n: number };
    byKey.set(d.account, [...(byKey.get(d.account) ?? []), d.n]);
  }
  for (const [key, ns] of byKey)
    assert.equal(
      ns,
      [...ns].sort((a, b) => a - b),
      `${what}: key ${key} in order`,
    );
}

test("three router replicas: ordered copies in stream order, each once, across an abrupt loss of the pinned replica, which a standby replaces within the pinned TTL", async () => {
  const { server, nc, stop } = await startServer();
  const replicas: Replica[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const rnc = await connectNats({ servers: server.url, name: `router-${i}` });
      replicas.push({
        nc: rnc,
        router: await startRouter(routerDeps(rnc, config), { maxInFlight: 64, ackWaitMs: 5_000, heartbeatMs: 500 }),
      });
    }
    const holders = () => replicas.filter((r) => r.router.ordered);

    // events keep flowing through the kill; per key a counter n in publish (= stream) order
    const pub = new BulkPublisher(nc);
    let published = 0;
    const flow = (async () => {
      while (published < TOTAL) {
        const batch = Array.from({ length: 50 }, (_, i) => published + i);
        await Promise.all(batch.map((n) => pub.publish(encodeEvent(event("Payment", { account: `acc-${n % KEYS}`, n })))));
        published += batch.length;
      }
    })();

    // the server pins one replica when it first delivers
    const first = await waitFor(() => (holders().length === 1 ? holders()[0] : undefined), "one replica is pinned to the ordered lane");
    const jsm = await jetstreamManager(nc);
    const inboxCount = async () => (await jsm.streams.info(Streams.Inbox)).state.messages;
    await waitFor(async () => (await inboxCount()) >= TOTAL / 2, "a good part routed", 60_000);
    // the pinned replica itself makes progress (acks), not only the competing lane
    await waitFor(
      async () => (await jsm.consumers.info(Streams.Events, Consumers.routerOrdered)).ack_floor.stream_seq >= TOTAL / 4,
      "the pinned replica acks ordered events",
      60_000,
    );
    assert.is(holders().length, 1, "the others stay standbys while it pulls");
    assert.ok(published < TOTAL || (await inboxCount()) < 2 * TOTAL, "the holder is killed mid-run");

    // the pinned replica's process "dies": its connection goes away, nothing is stopped or unpinned
    await first.nc.close();
    const survivors = replicas.filter((r) => r !== first);
    // the server pins a standby once the dead one's pinned TTL (2 s) ran out without a pull
    const second = await waitFor(() => survivors.find((r) => r.router.ordered), "a standby is pinned within the pinned TTL", 6_000, 20);
    assert.is(survivors.filter((r) => r.router.ordered).length, 1, "one holder after the takeover");
    assert.ok(second !== first);
    await flow;
    await pub.close();

    await waitFor(
      async () => {
        const [all, ordered] = await Promise.all([
          jsm.consumers.info(Streams.Events, Consumers.router),
          jsm.consumers.info(Streams.Events, Consumers.routerOrdered),
        ]);
        return [all, ordered].every((ci) => ci.ack_floor.stream_seq === TOTAL && ci.num_pending === 0 && ci.num_ack_pending === 0);
      },
      "both lanes acked every event",
      90_000,
      200,
    );

    const copies = await readAll(nc, Streams.Inbox);
    assertOrderedAndOnce(copies, "after takeover");
    const count = (actor: string) =>
      new Set(copies.filter((m) => m.subject.startsWith(`actors.${actor}.`)).map((m) => header(m, "Nats-Msg-Id"))).size;
    assert.is(count("ledger"), TOTAL, "every ledger copy (none lost)");
    assert.is(count("audit"), TOTAL, "every audit copy (competing lane: none lost)");
    assert.is(copies.length, 2 * TOTAL, "no duplicate stored");
  } finally {
    for (const r of replicas) if (!r.nc.isClosed()) await r.router.stop();
    for (const r of replicas) await r.nc.close().catch(() => undefined);
    await stop();
  }
});

test("the first ordered actor added by a live config: its copies switch lanes without loss or duplicate", async () => {
  const { server, nc, stop } = await startServer();
  const replicas: Replica[] = [];
  const unordered = testConfig({
    actors: [{ name: "audit" }, { name: "ledger" }],
    routes: { rules: [{ name: "payments", match: { type: "Payment" }, to: ["ledger", "audit"] }] },
  });
  try {
    for (let i = 0; i < 2; i++) {
      const rnc = await connectNats({ servers: server.url, name: `router-${i}` });
      replicas.push({ nc: rnc, router: await startRouter(routerDeps(rnc, unordered), { maxInFlight: 32, ackWaitMs: 5_000 }) });
    }
    const jsm = await jetstreamManager(nc);
    assert.is(
      await jsm.consumers.info(Streams.Events, Consumers.routerOrdered).catch(() => null),
      null,
      "no ordered lane without ordered actors",
    );
    const pub = new BulkPublisher(nc);
    const publish = (from: number, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          pub.publish(encodeEvent(event("Payment", { account: `acc-${(from + i) % KEYS}`, n: from + i }))),
        ),
      );
    await publish(0, 200);

    const store = await ConfigStore.open(nc);
    const applied = await store.apply({
      ...unordered,
      actors: [{ name: "audit" }, { name: "ledger", ordered: { key: "data.account", partitions: PARTITIONS } }],
    });
    await waitFor(() => replicas.every((r) => r.router.revision === applied.revision), "both replicas on the new revision");
    await publish(200, 300);
    await waitFor(() => replicas.some((r) => r.router.ordered), "a replica is pinned to the new ordered lane", 20_000);
    await pub.close();

    await waitFor(
      async () => {
        const [all, ordered] = await Promise.all([
          jsm.consumers.info(Streams.Events, Consumers.router),
          jsm.consumers.info(Streams.Events, Consumers.routerOrdered),
        ]);
        return (
          all.ack_floor.stream_seq === 500 && all.num_pending + all.num_ack_pending + ordered.num_pending + ordered.num_ack_pending === 0
        );
      },
      "both lanes acked every event",
      60_000,
      200,
    );
    const copies = await readAll(nc, Streams.Inbox);
    const ledgerIds = copies.filter((m) => m.subject.startsWith("actors.ledger.")).map((m) => header(m, "Nats-Msg-Id"));
    assert.is(new Set(ledgerIds).size, 500, "every ledger copy, before and after the switch");
    assert.is(ledgerIds.length, 500, "none twice");
    const after = copies.filter(
      (m) => m.subject.startsWith("actors.ledger.") && Number(header(m, JetbusHeaders.ConfigRevision)) === applied.revision,
    );
    assertOrderedAndOnce(after, "after the switch");
  } finally {
    for (const r of replicas) await r.router.stop();
    for (const r of replicas) await r.nc.close();
    await stop();
  }
});

test.run();
