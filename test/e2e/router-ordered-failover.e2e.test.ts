import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Buckets, Consumers, JetbusHeaders, LeaseKeys, Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const KEYS = 16;
const TOTAL = 4000;

function startRouterProcess(url: string, configFile: string): ChildProcess {
  return spawn(process.execPath, ["bin/jetbus.js", "router", "--servers", url, "--config", configFile, "--ack-wait", "5s", "--max-in-flight", "64", "--no-indexer", "--no-http", "--debug"], {
    cwd: process.cwd(),
    // info: the runner prints a test file's output only when it fails, and then start-up steps are worth seeing
    env: { ...process.env, JETBUS_LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

const exited = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));

test("three router processes; the ordered lane's holder is SIGKILLed mid-run: partitions stay in stream order, each copy once", async () => {
  const { nc, server, stop } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-ordered-failover-"));
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(configFile, JSON.stringify({
    actors: [{ name: "audit" }, { name: "ledger", ordered: { key: "data.account", partitions: 4 } }],
    routes: { rules: [{ name: "payments", match: { type: "Payment" }, to: ["ledger", "audit"] }] },
  }));
  const children: ChildProcess[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: Streams.Events, subjects: ["events.>"] });
    // The first router creates the streams, buckets and durables; the standbys start once they exist.
    // Three processes creating them at the same moment crashed nats-server 2.9.10 once here (a nil
    // pointer in its message-get handler), and simultaneous start-up is not what this test is about.
    children.push(startRouterProcess(server.url, configFile));
    const leases = await waitFor(async () => await new Kvm(nc).open(Buckets.Leases).catch(() => null), "the lease bucket", 60_000);
    const holderPid = async () => {
      const e = await leases.get(LeaseKeys.OrderedRouter);
      return e && e.operation === "PUT" ? (JSON.parse(e.string()) as { pid: number }).pid : 0;
    };
    const firstPid = await waitFor(holderPid, "a router process holds the ordered lane", 60_000);
    for (let i = 0; i < 2; i++) children.push(startRouterProcess(server.url, configFile));
    const presence = await new Kvm(nc).open(Buckets.Presence);
    await waitFor(async () => {
      let routers = 0;
      for await (const _ of await presence.keys("router.>")) routers++;
      return routers === 3;
    }, "three router processes running", 60_000, 200);
    const holder = children.find((c) => c.pid === firstPid);
    assert.ok(holder, "the holder is one of the three processes");
    assert.is(await holderPid(), firstPid, "the standbys left the lease with its holder");

    const pub = new BulkPublisher(nc);
    let published = 0;
    const flow = (async () => {
      while (published < TOTAL) {
        const batch = Array.from({ length: 100 }, (_, i) => published + i);
        await Promise.all(batch.map((n) => pub.publish(encodeEvent(createEvent({ type: "Payment", source: "test", data: { account: `acc-${n % KEYS}`, n } })))));
        published += batch.length;
      }
    })();
    const inboxCount = async () => (await jsm.streams.info(Streams.Inbox)).state.messages;
    await waitFor(async () => (await inboxCount()) >= TOTAL / 2, "a good part routed", 60_000, 10);
    holder!.kill("SIGKILL");
    await exited(holder!);
    const killedAt = Date.now();
    assert.ok((await inboxCount()) < 2 * TOTAL, "killed mid-run");

    const secondPid = await waitFor(async () => {
      const pid = await holderPid();
      return pid !== 0 && pid !== firstPid ? pid : 0;
    }, "a standby process takes the ordered lane over", 60_000, 100);
    assert.ok(children.some((c) => c.pid === secondPid && c !== holder));
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs < 20_000, `takeover within about the lease TTL (${takeoverMs} ms)`);
    await flow;
    await pub.close();

    await waitFor(async () => {
      const lanes = await Promise.all([jsm.consumers.info(Streams.Events, Consumers.router), jsm.consumers.info(Streams.Events, Consumers.routerOrdered)]);
      return lanes.every((ci) => ci.ack_floor.stream_seq === TOTAL && ci.num_pending === 0 && ci.num_ack_pending === 0);
    }, "both lanes acked every event", 120_000, 200);

    const lastSeq = (await jsm.streams.info(Streams.Inbox)).state.last_seq;
    const ids = new Set<string>();
    const seqsBySubject = new Map<string, number[]>();
    let ledger = 0;
    for (let seq = 1; seq <= lastSeq; seq++) {
      const m = await jsm.streams.getMessage(Streams.Inbox, { seq }).catch(() => null);
      if (!m) continue;
      const id = m.header.get("Nats-Msg-Id");
      assert.not.ok(ids.has(id), `${id} stored once`);
      ids.add(id);
      if (!m.subject.startsWith("actors.ledger.")) continue;
      ledger++;
      seqsBySubject.set(m.subject, [...(seqsBySubject.get(m.subject) ?? []), Number(m.header.get(JetbusHeaders.OriginSeq))]);
    }
    assert.is(ledger, TOTAL, "every ledger copy");
    assert.is(ids.size, 2 * TOTAL, "every copy, none twice");
    for (const [subject, seqs] of seqsBySubject) {
      const i = seqs.findIndex((s, k) => k > 0 && s <= seqs[k - 1]!);
      assert.is(i, -1, `${subject} in stream order (break at ${i}: ${seqs.slice(Math.max(0, i - 2), i + 2).join(",")})`);
    }
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await Promise.all(children.map(exited));
    await stop();
  }
});

test.run();
