import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AckPolicy, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Buckets, JetbusHeaders, Streams } from "../../runtime/topology.ts";
import type { Scenario } from "../harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const KEYS = 16;
/** Events published per 10 ms tick: 500 ev/s, a steady flow whose gaps are a few ms apart. */
const PER_TICK = 5;
/** The raw relay's pinned TTL (its pulls live 1 s, see raw-pinned-relay.ts): what jetbus's ordered lane uses. */
const RAW_PINNED_TTL_MS = 2_000;

type Run = { gapMs: number; firstAfterKillMs: number; published: number; distinct: number; violations: string[] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", () => r())));

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false | 0>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Publishes PER_TICK events every 10 ms on `subjectOf`, records when each new copy id is first
 * seen on `watch`, kills `victim()` after `beforeMs`, goes on for `afterMs`, then waits until
 * every copy arrived. The gap is the longest interval without a new copy across the kill.
 */
async function measure(
  nc: NatsConnection,
  watch: string,
  subjectOf: (n: number) => string,
  idOf: (n: number) => string,
  victim: () => Promise<ChildProcess>,
  beforeMs: number,
  afterMs: number,
): Promise<Omit<Run, "violations">> {
  const seen = new Map<string, number>();
  const sub = nc.subscribe(watch, {
    callback: (_err, m) => {
      const id = m.headers?.get("Nats-Msg-Id") ?? "";
      if (!seen.has(id)) seen.set(id, performance.now());
    },
  });
  const pub = new BulkPublisher(nc, { window: 4096, ackTimeoutMs: 5000 });
  let published = 0;
  let stop = false;
  const flow = (async () => {
    while (!stop) {
      const tick = performance.now();
      for (let i = 0; i < PER_TICK; i++) {
        const n = published++;
        void pub.publish(
          encodeEvent(createEvent({ id: idOf(n), type: "Payment", source: "bench", data: { account: `acc-${n % KEYS}`, n } }), {
            subject: subjectOf(n),
          }),
        );
      }
      await sleep(Math.max(0, 10 - (performance.now() - tick)));
    }
  })();
  await sleep(beforeMs);
  const v = await victim();
  v.kill("SIGKILL");
  const killedAt = performance.now();
  await exited(v);
  await sleep(afterMs);
  stop = true;
  await flow;
  await pub.close();
  await until("every copy", async () => seen.size >= published, 120_000);
  sub.unsubscribe();
  const times = [...seen.values()].sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < times.length; i++) if (times[i]! > killedAt - 1000) gap = Math.max(gap, times[i]! - times[i - 1]!);
  const firstAfter = times.find((t) => t > killedAt) ?? NaN;
  return { gapMs: gap, firstAfterKillMs: firstAfter - killedAt, published, distinct: seen.size };
}

/** Reads `stream` whole: each copy id stored once, and per subject in origin order. */
async function checkOrder(jsm: JetStreamManager, stream: string, originOf: (h: { get(k: string): string }) => number): Promise<string[]> {
  const { first_seq, last_seq } = (await jsm.streams.info(stream)).state;
  const ids = new Set<string>();
  const last = new Map<string, number>();
  const problems: string[] = [];
  for (let seq = first_seq; seq <= last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m) continue;
    const id = m.header.get("Nats-Msg-Id");
    if (ids.has(id)) problems.push(`${id} stored twice`);
    ids.add(id);
    const origin = originOf(m.header);
    if (origin <= (last.get(m.subject) ?? 0)) problems.push(`${m.subject}: origin ${origin} after ${last.get(m.subject)}`);
    last.set(m.subject, origin);
  }
  return problems;
}

async function jetbusRun(beforeMs: number, afterMs: number): Promise<Run> {
  const server = await NatsServer.start();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-bench-ordered-"));
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      actors: [{ name: "ledger", ordered: { key: "data.account", partitions: 4 } }],
      routes: { rules: [{ name: "payments", match: { type: "Payment" }, to: ["ledger"] }] },
    }),
  );
  const routers: ChildProcess[] = [];
  const nc = await connectNats({ servers: server.url, name: "bench-ordered-failover" });
  try {
    await waitForJetStream(nc);
    const start = () => {
      const c = spawn(
        process.execPath,
        ["bin/jetbus.js", "router", "--servers", server.url, "--config", configFile, "--no-indexer", "--no-http"],
        {
          cwd: root,
          stdio: ["ignore", "ignore", process.env.BENCH_ROUTER_LOG ? openSync(process.env.BENCH_ROUTER_LOG, "a") : "ignore"],
          env: { ...process.env, JETBUS_LOG_JSON: "1" },
        },
      );
      routers.push(c);
      return c;
    };
    // the first router creates the store, the inbox and the durables; the standby joins after
    start();
    const presence = await until("the presence bucket", () => new Kvm(nc).open(Buckets.Presence));
    const holderPid = async () => {
      for await (const k of await presence.keys("router.>")) {
        const e = await presence.get(k);
        const v = e?.operation === "PUT" ? (e.json() as { pid: number; orderedLane?: boolean }) : undefined;
        if (v?.orderedLane && routers.some((c) => c.pid === v.pid && c.exitCode === null && c.signalCode === null)) return v.pid;
      }
      return 0;
    };
    const count = async () => {
      let n = 0;
      for await (const _ of await presence.keys("router.>")) n++;
      return n;
    };
    await until("the first router", async () => (await count()) === 1);
    start();
    await until("two routers", async () => (await count()) === 2);
    // the holder is known once events flow (a pinned lane is pinned by its first delivery)
    const victim = async () => {
      const pid = await until("the ordered lane's holder", holderPid);
      return routers.find((c) => c.pid === pid)!;
    };
    const run = await measure(
      nc,
      "actors.ledger.>",
      () => "events.Payment",
      (n) => `pay-${n}`,
      victim,
      beforeMs,
      afterMs,
    );
    const jsm = await jetstreamManager(nc);
    const violations = await checkOrder(jsm, Streams.Inbox, (h) => Number(h.get(JetbusHeaders.OriginSeq)));
    return { ...run, violations };
  } finally {
    for (const c of routers) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await Promise.all(routers.map(exited));
    await nc.close().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rawRun(beforeMs: number, afterMs: number): Promise<Run> {
  const server = await NatsServer.start();
  const relays: ChildProcess[] = [];
  const pinned = new Set<ChildProcess>();
  const running = new Set<ChildProcess>();
  const nc = await connectNats({ servers: server.url, name: "bench-raw-pinned" });
  try {
    await waitForJetStream(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "RAWO", subjects: ["rawo.>"] });
    await jsm.streams.add({ name: "RELAYED", subjects: ["relayed.>"] });
    await jsm.consumers.add("RAWO", {
      durable_name: "pinned",
      ack_policy: AckPolicy.Explicit,
      ack_wait: 5_000_000_000,
      max_ack_pending: 20_000,
      priority_policy: "pinned_client",
      priority_groups: ["relay"],
      priority_timeout: RAW_PINNED_TTL_MS * 1_000_000,
    });
    for (let i = 0; i < 2; i++) {
      const c = spawn(process.execPath, ["--import", "tsx", "bench/processes/raw-pinned-relay.ts", server.url], {
        cwd: root,
        stdio: ["ignore", "pipe", "inherit"],
      });
      relays.push(c);
      c.stdout!.on("data", (d: Buffer) => {
        if (d.toString().includes("relay running")) running.add(c);
        if (d.toString().includes("pinned")) pinned.add(c);
      });
      await until("the relay", async () => running.has(c));
    }
    const victim = async () => until("a pinned relay", async () => [...pinned][0]);
    const run = await measure(
      nc,
      "relayed.>",
      (n) => `rawo.acc-${n % KEYS}`,
      (n) => `pay-${n}`,
      victim,
      beforeMs,
      afterMs,
    );
    // the raw relay publishes without chaining: stored once is what its ids guarantee, order is not claimed
    const violations = (await checkOrder(jsm, "RELAYED", () => Infinity)).filter((p) => p.includes("twice"));
    return { ...run, violations };
  } finally {
    for (const c of relays) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await Promise.all(relays.map(exited));
    await nc.close().catch(() => undefined);
    await server.stop();
  }
}

const scenario: Scenario = {
  name: "ordered-failover",
  description:
    "ordered-lane failover: 2 router processes, 500 ev/s of an ordered actor's events, SIGKILL of the ordered lane's holder; longest gap without a new ordered copy. Raw: 2 relay processes on a pinned priority-group consumer (pinned TTL 2 s, pulls of 1 s)",
  async run(args) {
    const afterMs = Number(args[0] ?? 15_000);
    const beforeMs = 3_000;
    const jetbus = await jetbusRun(beforeMs, afterMs);
    process.stderr.write(
      `jetbus: gap ${jetbus.gapMs.toFixed(0)} ms, first new copy ${jetbus.firstAfterKillMs.toFixed(0)} ms after the kill; ${jetbus.published} published, ${jetbus.distinct} copies; ${jetbus.violations.length} order/dedupe violations ${jetbus.violations.slice(0, 5).join("; ")}\n`,
    );
    const raw = await rawRun(beforeMs, afterMs);
    process.stderr.write(
      `raw: gap ${raw.gapMs.toFixed(0)} ms, first new copy ${raw.firstAfterKillMs.toFixed(0)} ms after the kill; ${raw.published} published, ${raw.distinct} copies; ${raw.violations.length} duplicates\n`,
    );
    return [
      {
        metric: "longest gap without a new ordered copy",
        unit: "ms",
        jetbus: jetbus.gapMs,
        raw: raw.gapMs,
        higherIsBetter: false,
        target: "jetbus <= 3000 ms",
      },
      { metric: "kill -> first new copy", unit: "ms", jetbus: jetbus.firstAfterKillMs, raw: raw.firstAfterKillMs, higherIsBetter: false },
    ];
  },
};
export default scenario;
