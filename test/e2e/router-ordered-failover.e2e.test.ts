import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Buckets, Consumers, JetbusHeaders, Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const KEYS = 16;
const TOTAL = 4000;

function startRouterProcess(url: string, configFile: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      "bin/jetbus.js",
      "router",
      "--servers",
      url,
      "--config",
      configFile,
      "--ack-wait",
      "5s",
      "--max-in-flight",
      "64",
      "--no-indexer",
      "--no-http",
      "--debug",
    ],
    {
      cwd: process.cwd(),
      // info: the runner prints a test file's output only when it fails, and then start-up steps are worth seeing
      env: { ...process.env, JETBUS_LOG_LEVEL: "info" },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));

/** Starts three router processes (the first alone: it creates the streams and durables), and a steady flow of payments. */
async function setUp(nc: NatsConnection, url: string, children: ChildProcess[], dir: string) {
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      actors: [{ name: "audit" }, { name: "ledger", ordered: { key: "data.account", partitions: 4 } }],
      routes: { rules: [{ name: "payments", match: { type: "Payment" }, to: ["ledger", "audit"] }] },
    }),
  );
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: Streams.Events, subjects: ["events.>"] });
  children.push(startRouterProcess(url, configFile));
  const presence = await waitFor(async () => await new Kvm(nc).open(Buckets.Presence).catch(() => null), "the presence bucket", 60_000);
  const routers = async () => {
    const out: Array<{ pid: number; orderedLane?: boolean }> = [];
    for await (const k of await presence.keys("router.>")) {
      const e = await presence.get(k);
      if (e?.operation === "PUT") out.push(e.json());
    }
    return out;
  };
  await waitFor(async () => (await routers()).length === 1, "the first router", 60_000, 200);
  for (let i = 0; i < 2; i++) children.push(startRouterProcess(url, configFile));
  await waitFor(async () => (await routers()).length === 3, "three router processes running", 60_000, 200);
  /** Pids whose heartbeat says they are pinned to the ordered lane (a dead one's entry lingers up to 10 s). */
  const pinnedPids = async () => (await routers()).filter((r) => r.orderedLane).map((r) => r.pid);

  const pub = new BulkPublisher(nc);
  let published = 0;
  const flow = (async () => {
    while (published < TOTAL) {
      const batch = Array.from({ length: 100 }, (_, i) => published + i);
      await Promise.all(
        batch.map((n) =>
          pub.publish(encodeEvent(createEvent({ type: "Payment", source: "test", data: { account: `acc-${n % KEYS}`, n } }))),
        ),
      );
      published += batch.length;
    }
    await pub.close();
  })();
  // the ordered copies the pinned router has acked its events for (the competing lane's copies do not count)
  const inboxCount = async () => 2 * (await jsm.consumers.info(Streams.Events, Consumers.routerOrdered)).ack_floor.stream_seq;
  return { jsm, pinnedPids, flow, inboxCount };
}

/** Both lanes acked everything; then every copy is stored once and each ledger partition is in stream order. */
async function assertOrderedOnce(jsm: JetStreamManager): Promise<void> {
  await waitFor(
    async () => {
      const lanes = await Promise.all([
        jsm.consumers.info(Streams.Events, Consumers.router),
        jsm.consumers.info(Streams.Events, Consumers.routerOrdered),
      ]);
      return lanes.every((ci) => ci.ack_floor.stream_seq === TOTAL && ci.num_pending === 0 && ci.num_ack_pending === 0);
    },
    "both lanes acked every event",
    120_000,
    200,
  );
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
}

test("three router processes; the pinned one is SIGKILLed mid-run: a standby is pinned, partitions stay in stream order, each copy once", async () => {
  const { nc, server, stop } = await startServer();
  const children: ChildProcess[] = [];
  try {
    const { jsm, pinnedPids, flow, inboxCount } = await setUp(
      nc,
      server.url,
      children,
      mkdtempSync(join(tmpdir(), "jetbus-ordered-failover-")),
    );
    const [firstPid] = await waitFor(
      async () => ((await pinnedPids()).length === 1 ? await pinnedPids() : null),
      "one router process is pinned",
      60_000,
      100,
    );
    const holder = children.find((c) => c.pid === firstPid);
    assert.ok(holder, "the pinned router is one of the three processes");
    await waitFor(async () => (await inboxCount()) >= TOTAL / 2, "a good part routed", 60_000, 10);
    holder!.kill("SIGKILL");
    await exited(holder!);
    assert.ok((await inboxCount()) < 2 * TOTAL, "killed mid-run");

    const secondPid = await waitFor(
      async () => (await pinnedPids()).find((p) => p !== firstPid),
      "a standby process is pinned",
      60_000,
      100,
    );
    assert.ok(children.some((c) => c.pid === secondPid && c !== holder));
    await flow;
    await assertOrderedOnce(jsm);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await Promise.all(children.map(exited));
    await stop();
  }
});

test("the pinned router is paused (SIGSTOP) past the pinned TTL, a standby is pinned, then it resumes: nothing it sends breaks the order", async () => {
  const { nc, server, stop } = await startServer();
  const children: ChildProcess[] = [];
  try {
    const { jsm, pinnedPids, flow, inboxCount } = await setUp(
      nc,
      server.url,
      children,
      mkdtempSync(join(tmpdir(), "jetbus-ordered-pause-")),
    );
    const [firstPid] = await waitFor(
      async () => ((await pinnedPids()).length === 1 ? await pinnedPids() : null),
      "one router process is pinned",
      60_000,
      100,
    );
    const paused = children.find((c) => c.pid === firstPid)!;
    await waitFor(async () => (await inboxCount()) >= TOTAL / 2, "a good part routed", 60_000, 10);
    // paused with copies in flight: their acks, its timers and its resends all run late, after the handover
    paused.kill("SIGSTOP");
    const secondPid = await waitFor(
      async () => (await pinnedPids()).find((p) => p !== firstPid),
      "a standby process is pinned while the first is paused",
      60_000,
      100,
    );
    assert.ok(children.some((c) => c.pid === secondPid));
    paused.kill("SIGCONT");
    await flow;
    await assertOrderedOnce(jsm);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await Promise.all(children.map(exited));
    await stop();
  }
});

test.run();
