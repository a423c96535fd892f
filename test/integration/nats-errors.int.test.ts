import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, headers } from "@nats-io/transport-node";
import { PublishError, TimeoutError } from "../../runtime/errors.ts";
import {
  ApiCode,
  apiCodeOf,
  isAlreadyExists,
  isNoPeers,
  isNotFound,
  isPermission,
  isReplicaRefusal,
  isTransient,
  isWrongLastSequence,
} from "../../runtime/nats/errors.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { NatsServer, startCluster } from "../helpers/nats.ts";
import { nodeNamed, retryPlacement } from "../helpers/cluster-nodes.ts";

/*
 * Every error classified here is provoked on a real nats-server (no hand-made error objects):
 * the classifier must recognise what the server and the client actually produce.
 */

/** The rejection of `p`; fails the test when it resolves. */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error(`${what}: expected an error, got a result`);
}

type Kind = "notFound" | "exists" | "wrongLast" | "permission" | "transient" | "replicas" | "noPeers";
const CLASSIFIERS: Record<Kind, (e: unknown) => boolean> = {
  notFound: isNotFound,
  exists: isAlreadyExists,
  wrongLast: isWrongLastSequence,
  permission: isPermission,
  transient: isTransient,
  replicas: isReplicaRefusal,
  noPeers: isNoPeers,
};

/** The error is of `kinds` and of no other kind (a not-found is never transient, a permission never retried). */
function assertKinds(err: unknown, kinds: Kind[], what: string): void {
  for (const [kind, is] of Object.entries(CLASSIFIERS) as Array<[Kind, (e: unknown) => boolean]>) {
    assert.is(
      is(err),
      kinds.includes(kind),
      `${what}: ${kind} should be ${kinds.includes(kind)} for ${(err as Error)?.name}: ${(err as Error)?.message}`,
    );
  }
}

const ACCOUNTS = `accounts { A: { jetstream: enabled, users: [
  { user: admin, password: admin },
  { user: reader, password: reader, permissions: { publish: { deny: ["$JS.API.STREAM.INFO.>"] } } }
] } }`;

test("single server: not found, already exists, wrong last sequence, permission, timeout, no responders, closed", async () => {
  const server = await NatsServer.start({ extraConfig: ACCOUNTS });
  const nc = await connect({ servers: server.url, user: "admin", pass: "admin" });
  const reader = await connect({ servers: server.url, user: "reader", pass: "reader" });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "S", subjects: ["s.>"] });
    await jsm.consumers.add("S", { durable_name: "d", ack_policy: AckPolicy.Explicit });
    await jetstream(nc).publish("s.a", "one");

    const noStream = await rejection(jsm.streams.info("NOPE"), "stream info");
    assert.is(apiCodeOf(noStream), ApiCode.StreamNotFound);
    assertKinds(noStream, ["notFound"], "stream info of a missing stream");
    assertKinds(await rejection(jsm.consumers.info("S", "nope"), "consumer info"), ["notFound"], "consumer info of a missing durable");
    assertKinds(await rejection(jsm.consumers.delete("S", "nope"), "consumer delete"), ["notFound"], "deleting a missing durable");

    const inUse = await rejection(jsm.streams.add({ name: "S", subjects: ["s.>"], max_msgs: 5 }), "stream add");
    assert.is(apiCodeOf(inUse), ApiCode.StreamNameInUse);
    assertKinds(inUse, ["exists"], "a stream name in use with other settings");

    const kv = await new Kvm(jetstream(nc)).create("b", { history: 1 });
    await kv.put("k", "v");
    assertKinds(await rejection(kv.update("k", "v2", 99), "kv update"), ["wrongLast"], "KV update on a stale revision");
    assertKinds(await rejection(kv.create("k", "v3"), "kv create"), ["wrongLast"], "KV create of an existing key");
    const expectHeaders = headers();
    expectHeaders.set("Nats-Expected-Last-Subject-Sequence", "77");
    assertKinds(
      await rejection(jetstream(nc).publish("s.a", "two", { expect: { lastSubjectSequence: 77 } }), "js.publish"),
      ["wrongLast"],
      "js.publish with a stale expected sequence",
    );
    // our bulk publisher carries the server's API error as the cause of its PublishError
    const bulk = new BulkPublisher(nc);
    try {
      const viaBulk = await rejection(
        bulk.publish({ subject: "s.a", data: new TextEncoder().encode("three"), headers: expectHeaders }),
        "bulk publish",
      );
      assert.instance(viaBulk, PublishError);
      assertKinds(viaBulk, ["wrongLast"], "a bulk publish with a stale expected sequence");
    } finally {
      await bulk.close();
    }

    assertKinds(
      await rejection(jsm.streams.add({ name: "R3", subjects: ["r3.>"], num_replicas: 3 }), "R3 stream"),
      ["replicas"],
      "3 replicas on a single server",
    );

    const denied = await rejection((await jetstreamManager(reader, { checkAPI: false })).streams.info("S"), "denied stream info");
    assertKinds(denied, ["permission"], "a JetStream API call the user may not publish");
    assertKinds(
      await rejection(connect({ servers: server.url, user: "admin", pass: "wrong", reconnect: false }), "bad password"),
      ["permission"],
      "a wrong password",
    );

    nc.subscribe("silent");
    assertKinds(await rejection(nc.request("silent", "x", { timeout: 200 }), "request"), ["transient"], "a request nobody answers in time");
    assertKinds(
      await rejection(nc.request("nobody.listens", "x", { timeout: 1000 }), "request"),
      ["transient"],
      "a request without responders",
    );
    const noApi = await jetstreamManager(nc, { apiPrefix: "$NOAPI", checkAPI: false });
    assertKinds(
      await rejection(noApi.streams.info("S"), "stream info"),
      ["transient"],
      "a JetStream API subject without responders (client: 'jetstream is not enabled')",
    );

    await nc.close();
    assertKinds(await rejection(jsm.streams.info("S"), "closed"), [], "a call on a closed connection (final, not transient)");
  } finally {
    await reader.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await server.stop();
  }
});

test("cluster: no peers for the replicas asked, and a lost quorum is transient", async () => {
  const { cluster, nc, stop } = await startCluster(3);
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 });
    await retryPlacement(() => jsm.streams.add({ name: "R3", subjects: ["r3.>"], num_replicas: 3 }));
    const r5 = await rejection(jsm.streams.add({ name: "R5", subjects: ["r5.>"], num_replicas: 5 }), "R5 stream");
    assert.is(apiCodeOf(r5), ApiCode.ClusterNoPeers);
    assertKinds(r5, ["replicas", "noPeers"], "5 replicas on 3 nodes");

    // two of three nodes gone: no stream leader, no meta leader
    const leader = await nodeNamed(cluster.nodes, (await jsm.streams.info("R3")).cluster!.leader!);
    for (const node of cluster.nodes.filter((n) => n !== leader)) await node.kill();
    const js = jetstream(nc, { timeout: 2000 });
    assertKinds(await rejection(js.publish("r3.x", "x"), "publish"), ["transient"], "a publish to a stream without quorum");
    assertKinds(
      await rejection(jsm.streams.add({ name: "Q", subjects: ["q.>"] }), "stream add"),
      ["transient"],
      "a stream create without a meta leader",
    );
  } finally {
    await stop();
  }
});

test("our own errors say whether they are transient themselves", () => {
  assert.ok(isTransient(new TimeoutError("no ack")));
  assert.not.ok(isTransient(new PublishError("refused")));
  assert.ok(isTransient(new PublishError("no leader", { retryable: true })));
});

test.run();
