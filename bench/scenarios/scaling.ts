import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureInbox } from "../../runtime/actor/mod.ts";
import { configFrom } from "../../runtime/config/load.ts";
import type { JetbusConfig } from "../../runtime/config/types.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { Buckets, Streams } from "../../runtime/topology.ts";
import type { Comparison, Scenario } from "../harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const self = fileURLToPath(import.meta.url);
export const RAW_STREAM = "BENCH_RAW_WQ";
const RAW_WORKER_ENV = "JETBUS_BENCH_RAW_WORKER";

/**
 * Worker mode (this file run as a script with JETBUS_BENCH_RAW_WORKER=<url>|<durable>|<delayMs>):
 * the raw-client equivalent of one actor replica with concurrency 1: consume(), wait, ack.
 */
async function rawWorker(spec: string): Promise<void> {
  const [url, durable, delay] = spec.split("|");
  const nc = await connectNats({ servers: url!, name: "bench-raw-worker" });
  const consumer = await jetstream(nc).consumers.get(RAW_STREAM, durable!);
  const messages = await consumer.consume({ max_messages: 1 });
  const delayMs = Number(delay);
  process.on("SIGTERM", () => void messages.close());
  process.stdout.write("ready\n");
  for await (const m of messages) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    m.ack();
  }
  await nc.drain();
  process.exit(0);
}

export type Worker = Readonly<{ child: ChildProcess; pid: number; exited: Promise<unknown> }>;

export function spawnRawWorker(url: string, durable: string, delayMs: number, onSpawn?: (pid: number) => void): Promise<Worker> {
  const child = spawn(process.execPath, ["--import", "tsx", self], {
    cwd: root,
    env: { ...process.env, [RAW_WORKER_ENV]: `${url}|${durable}|${delayMs}` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  onSpawn?.(child.pid!);
  const exited = new Promise((r) => child.once("exit", r));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve({ child, pid: child.pid!, exited }));
    child.once("exit", (code) => reject(new Error(`raw worker exited ${code}`)));
  });
}

export function writeConfigFile(doc: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "jetbus-bench-")), "jetbus.config.json");
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** `jetbus actor NAME --replicas 1`, ready once it heartbeats in jetbus-presence. */
export async function spawnActorProcess(
  nc: NatsConnection,
  url: string,
  configFile: string,
  actor: string,
  onSpawn?: (pid: number) => void,
): Promise<Worker> {
  const child = spawn(process.execPath, ["bin/jetbus.js", "actor", actor, "--replicas", "1", "--config", configFile, "--servers", url], {
    cwd: root,
    env: { ...process.env, JETBUS_LOG_JSON: "1" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  onSpawn?.(child.pid!);
  const exited = new Promise((r) => child.once("exit", r));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`actor process exited ${child.exitCode}`);
    try {
      const kv = await new Kvm(nc).open(Buckets.Presence);
      for await (const k of await kv.keys(`actor.${actor}.>`)) {
        const e = await kv.get(k);
        if (e && e.json<{ pid: number }>().pid === child.pid) return { child, pid: child.pid!, exited };
      }
    } catch {
      // bucket not created yet
    }
    if (Date.now() > deadline) throw new Error("actor process not ready after 60s");
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopAll(ws: readonly Worker[]): Promise<void> {
  for (const w of ws) w.child.kill("SIGTERM");
  await Promise.all(ws.map((w) => w.exited));
}

/** Publishes n seed-style UserCreated events to `subject`, pipelined. */
export async function fill(nc: NatsConnection, subject: string, n: number, tag: string): Promise<void> {
  const js = jetstream(nc);
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const e = createEvent({
      type: "UserCreated",
      data: { user_id: `u${i}`, username: "bench", email: "bench@example.com" },
      source: "bench",
    });
    const w = encodeEvent(e, { subject, msgId: `${e.id}:${tag}` });
    const p = js.publish(w.subject, w.data, { headers: w.headers }).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 2000) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}

/** Messages a durable has not yet had acked: waiting plus in flight. */
export async function backlogOf(jsm: JetStreamManager, stream: string, durable: string): Promise<number> {
  const ci = await jsm.consumers.info(stream, durable);
  return ci.num_pending + ci.num_ack_pending;
}

/** Resolves when the durable has nothing left: every message delivered and acked. */
export async function drained(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  while ((await backlogOf(jsm, stream, durable)) > 0) await new Promise((r) => setTimeout(r, 50));
}

export async function ensureRawStream(jsm: JetStreamManager, durable: string): Promise<void> {
  await jsm.streams.add({ name: RAW_STREAM, subjects: ["benchraw.>"], retention: RetentionPolicy.Workqueue }).catch(() => undefined);
  await jsm.consumers.add(RAW_STREAM, {
    durable_name: durable,
    filter_subject: `benchraw.${durable}`,
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 1000,
  });
}

async function timeRun(workers: Worker[], publish: () => Promise<void>, done: () => Promise<void>, n: number): Promise<number> {
  const t0 = performance.now();
  await publish();
  await done();
  const secs = (performance.now() - t0) / 1000;
  await stopAll(workers);
  return n / secs;
}

/**
 * The seed's user-handler at 10 ms per event (I/O-bound), concurrency 1 per process, run as 1, 2
 * and 4 `jetbus actor` processes sharing one durable; the raw client does the same with 1, 2, 4
 * processes of consume() + 10 ms wait + ack.
 */
const scenario: Scenario = {
  name: "scaling",
  description:
    "I/O-bound actor (10 ms/event, concurrency 1 per process) throughput with 1, 2, 4 replica processes vs raw consume() processes",
  async run(args) {
    const n = Number(args[0] ?? 400);
    const server = await NatsServer.start();
    try {
      const nc = await connectNats({ servers: server.url, name: "bench-scaling" });
      const jsm = await jetstreamManager(nc);
      const doc = {
        actors: [{ name: "io", handler: "user-handler", concurrency: 1, options: { delay_ms: 10 } }],
        observability: { log_level: "warn" },
      };
      const config: JetbusConfig = configFrom(doc);
      await ensureInbox(jsm, config);
      const file = writeConfigFile(doc);
      await ensureRawStream(jsm, "rawio");
      const results: Array<{ k: number; jetbus: number; raw: number }> = [];
      for (const k of [1, 2, 4]) {
        const actors = await Promise.all(Array.from({ length: k }, () => spawnActorProcess(nc, server.url, file, "io")));
        const jetbus = await timeRun(
          actors,
          () => fill(nc, "actors.io.0", n, `io${k}`),
          () => drained(jsm, Streams.Inbox, "io"),
          n,
        );
        const raws = await Promise.all(Array.from({ length: k }, () => spawnRawWorker(server.url, "rawio", 10)));
        const raw = await timeRun(
          raws,
          () => fill(nc, "benchraw.rawio", n, `raw${k}`),
          () => drained(jsm, RAW_STREAM, "rawio"),
          n,
        );
        results.push({ k, jetbus, raw });
        process.stderr.write(`  ${k} process(es): jetbus ${jetbus.toFixed(1)} ev/s, raw ${raw.toFixed(1)} ev/s\n`);
      }
      await nc.close();
      const rows: Comparison[] = results.map((r) => ({
        metric: `${r.k} process(es) x concurrency 1, ${n} events`,
        unit: "ev/s",
        jetbus: r.jetbus,
        raw: r.raw,
        higherIsBetter: true,
      }));
      const one = results[0]!;
      for (const r of results.slice(1)) {
        rows.push({
          metric: `speedup ${r.k} processes vs 1`,
          unit: "x",
          jetbus: r.jetbus / one.jetbus,
          raw: r.raw / one.raw,
          higherIsBetter: true,
          ...(r.k === 4 ? { target: "jetbus >= 3.6x" } : {}),
        });
      }
      return rows;
    } finally {
      await server.stop();
    }
  },
};
export default scenario;

if (process.env[RAW_WORKER_ENV]) await rawWorker(process.env[RAW_WORKER_ENV]!);
