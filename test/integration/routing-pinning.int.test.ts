import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { ORDERED_PINNED_TTL_MS } from "../../runtime/routing/lane-consumers.ts";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { ensureEventStream } from "../../runtime/store/stream.ts";
import { Consumers, PriorityGroups, Streams, Subjects } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { event, routerDeps, testConfig } from "../fixtures/router-support.ts";

const config = testConfig({
  actors: [{ name: "ledger", ordered: { key: "data.account", partitions: 2 } }],
  routes: { rules: [{ name: "payments", match: { type: "Payment" }, to: ["ledger"] }] },
});

type PinnedInfo = ConsumerInfo & { priority_groups?: Array<{ group: string; pinned_client_id?: string }> };
type Replica = { nc: NatsConnection; router: RouterHandle };

async function pinOf(nc: NatsConnection): Promise<string> {
  const ci = (await (await jetstreamManager(nc)).consumers.info(Streams.Events, Consumers.routerOrdered)) as PinnedInfo;
  return ci.priority_groups?.[0]?.pinned_client_id ?? "";
}

async function publish(pub: BulkPublisher, from: number, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) => pub.publish(encodeEvent(event("Payment", { account: `acc-${(from + i) % 4}`, n: from + i })))),
  );
}

test("a stopping router unpins itself: the server holds no pin for it, and the standby is pinned by the next event", async () => {
  const { server, nc, stop } = await startServer();
  const replicas: Replica[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const rnc = await connectNats({ servers: server.url, name: `router-${i}` });
      replicas.push({ nc: rnc, router: await startRouter(routerDeps(rnc, config), { ackWaitMs: 5_000 }) });
    }
    const pub = new BulkPublisher(nc);
    await publish(pub, 0, 20);
    const first = await waitFor(() => replicas.find((r) => r.router.ordered), "one replica is pinned");
    const pin = await waitFor(() => pinOf(nc), "the server names the pin");
    await first.router.stop();
    assert.not.ok(first.router.ordered, "a stopped router does not claim the lane");
    assert.is(await pinOf(nc), "", "no pin left behind for the stopped router (a standby need not wait for the TTL)");
    await publish(pub, 20, 20);
    const second = await waitFor(() => replicas.find((r) => r !== first && r.router.ordered), "the standby is pinned");
    assert.ok(second);
    assert.is.not(await waitFor(() => pinOf(nc), "the new pin"), pin, "a new pin id");
    await pub.close();
  } finally {
    for (const r of replicas) await r.router.stop();
    for (const r of replicas) await r.nc.close();
    await stop();
  }
});

test("an ordered durable made before pinning (the lease era) is pinned in place, keeping its delivery state", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, config.store);
    const pub = new BulkPublisher(nc);
    await publish(pub, 0, 10);
    await jsm.consumers.add(Streams.Events, {
      durable_name: Consumers.routerOrdered,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 6,
      filter_subject: `${Subjects.events}.>`,
      max_ack_pending: 20_000,
    });
    router = await startRouter(routerDeps(nc, config), { ackWaitMs: 5_000 });
    const ci = (await jsm.consumers.info(Streams.Events, Consumers.routerOrdered)) as PinnedInfo;
    assert.is(ci.config.priority_policy, "pinned_client");
    assert.equal(ci.config.priority_groups, [PriorityGroups.orderedRouter]);
    assert.is(ci.config.priority_timeout, ORDERED_PINNED_TTL_MS * 1_000_000);
    assert.is(ci.config.opt_start_seq, 6, "same durable, same start");
    // it routes from where it stood: events 6..10, not the history before
    await waitFor(async () => (await jsm.streams.info(Streams.Inbox)).state.messages === 5, "events 6..10 routed");
    await publish(pub, 10, 5);
    await waitFor(async () => (await jsm.streams.info(Streams.Inbox)).state.messages === 10, "and what follows");
    await pub.close();
  } finally {
    await router?.stop();
    await stop();
  }
});

test.run();
