import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { startCluster, startServer, NatsServer } from "../helpers/nats.ts";
import { existsSync } from "node:fs";

test("a single server starts on a free port with JetStream and a temp store, and cleans up", async () => {
  const { server, nc, stop } = await startServer();
  try {
    assert.ok(server.port > 0);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "T", subjects: ["t.>"] });
    const js = jetstream(nc);
    const ack = await js.publish("t.one", "hello");
    assert.is(ack.seq, 1);
    const c = await js.consumers.get("T");
    const m = await c.next();
    assert.is(m?.string(), "hello");
    const kv = await new Kvm(nc).create("probe");
    await kv.put("k", "v");
    assert.is((await kv.get("k"))?.string(), "v");
  } finally {
    await stop();
  }
  assert.not.ok(existsSync(server.workDir), "work dir removed");
  assert.not.ok(server.running);
});

test("a restarted server keeps its port and its data", async () => {
  const { server, nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "R", subjects: ["r.>"] });
    await jetstream(nc).publish("r.x", "kept");
    const port = server.port;
    await server.kill();
    await server.restart();
    assert.is(server.port, port);
    await waitForJetStream(nc);
    const info = await jsm.streams.info("R");
    assert.is(info.state.messages, 1);
  } finally {
    await stop();
  }
});

test("two servers never share a port or a store", async () => {
  const a = await NatsServer.start();
  const b = await NatsServer.start();
  try {
    assert.is.not(a.port, b.port);
    assert.is.not(a.storeDir, b.storeDir);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test("a 3-node cluster forms and serves an R3 stream", async () => {
  const { cluster, nc, stop } = await startCluster(3);
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.add({ name: "C", subjects: ["c.>"], num_replicas: 3 });
    assert.is(info.config.num_replicas, 3);
    const other = await connectNats({ servers: cluster.nodes[2]!.url });
    const ack = await jetstream(other).publish("c.x", "r3");
    assert.is(ack.stream, "C");
    await other.close();
  } finally {
    await stop();
  }
});

test.run();
