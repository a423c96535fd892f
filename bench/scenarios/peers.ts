import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { isTransient } from "../../runtime/nats/errors.ts";
import { freePort, NatsServer } from "../../runtime/nats/server.ts";
import { exactlyOnceProblem, readTally, type Tally } from "../event-count.ts";
import { percentile, type Comparison, type Scenario } from "../harness.ts";
import { readSamples } from "../latency-record.ts";
import { benchMessage, PEER_SIDES, sideKeys, untilAllHandled, type Proc, type Side, type SideCtx } from "../peer-sides.ts";
import { CpuMeter, paced, publishWindowed, settledAt } from "../pipeline-support.ts";

/**
 * The consumers' pause while the backlog is published. The gate opens by pausing them again
 * until RELEASE_MS from now rather than by the resume API: on 2.15.1 a resumed consumer leaves
 * the pull requests already waiting until their next heartbeat (13 s with the client's default
 * pull), while the end of a timed pause serves them at once (measured: 13,013 ms vs 219 ms).
 */
const RELEASE_MS = 200;

type Cpu = Readonly<{ consumer?: number; router?: number; server?: number }>;
/** Messages per event a process sent to the server (publishes, acks, pulls, API requests) and got from it (deliveries, replies). */
type Traffic = Readonly<{ in: number; out: number }>;
type Msgs = Readonly<{ consumer?: Traffic; router?: Traffic }>;
type DrainResult = Readonly<{ rate: number; cpu: Cpu; msgs: Msgs; seconds: number; load: string; tally: Tally }>;
type LiveResult = Readonly<{ p50: number; p99: number; max: number; samples: number; cpu: Cpu; msgs: Msgs; load: string; tally: Tally }>;
type Outcome<R> = { side: Side; result?: R; failure?: string };

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function consumerNames(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const names: string[] = [];
  for await (const ci of jsm.consumers.list(stream)) names.push(ci.name);
  return names;
}

/** Resolves (performance.now()) at the first poll that finds any consumer of `stream` has delivered something. */
async function firstDelivery(jsm: JetStreamManager, stream: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      for await (const ci of jsm.consumers.list(stream)) if (ci.delivered.stream_seq > 0) return performance.now();
    } catch (err) {
      if (!isTransient(err)) throw err; // a loaded server's late answer: ask again
    }
    if (Date.now() > deadline) throw new Error(`nothing delivered from ${stream} ${timeoutMs / 1000} s after the gate opened`);
    await sleep(2);
  }
}

function cpuOf(meter: CpuMeter, events: number): Cpu {
  const us = meter.perEvent(events);
  return { consumer: us.consumer, router: us.router, server: us["nats-server"] };
}

/** The role of a client connection by its name: jetbus names its connections after the command; the bench's own consumers call theirs "peers-consumer". */
function roleOfConnection(name: string | undefined): Proc["role"] | undefined {
  if (name === undefined) return undefined;
  if (name.startsWith("jetbus-router")) return "router";
  if (name.startsWith("jetbus-actor") || name === "peers-consumer") return "consumer";
  return undefined;
}

type ConnCounts = Map<Proc["role"], { in: number; out: number }>;

/** Messages each role's open connections have sent to and received from the server so far (the server's /connz). */
async function connectionCounts(monitor: string): Promise<ConnCounts> {
  const res = await fetch(`${monitor}/connz?limit=1024`);
  const body = (await res.json()) as { connections?: Array<{ name?: string; in_msgs: number; out_msgs: number }> };
  const out: ConnCounts = new Map();
  for (const c of body.connections ?? []) {
    const role = roleOfConnection(c.name);
    if (!role) continue;
    const t = out.get(role) ?? { in: 0, out: 0 };
    out.set(role, { in: t.in + c.in_msgs, out: t.out + c.out_msgs });
  }
  return out;
}

function msgsPerEvent(before: ConnCounts, after: ConnCounts, events: number): Msgs {
  const per = (role: Proc["role"]): Traffic | undefined => {
    const a = after.get(role);
    if (!a) return undefined;
    const b = before.get(role) ?? { in: 0, out: 0 };
    return { in: (a.in - b.in) / events, out: (a.out - b.out) / events };
  };
  return { consumer: per("consumer"), router: per("router") };
}

function meterFor(procs: readonly Proc[], serverPid: number | undefined): CpuMeter {
  const pids: Record<string, number | undefined> = { "nats-server": serverPid };
  for (const p of procs) pids[p.role] = p.helper.child.pid;
  return new CpuMeter(pids);
}

/** Stops the consumer, then the router; PEERS_LOG_DIR=DIR keeps each process's output as DIR/<side>-<role>.log. */
async function stopAll(side: Side, procs: readonly Proc[]): Promise<void> {
  for (const p of [...procs].sort((a, b) => (a.role === "consumer" ? -1 : b.role === "consumer" ? 1 : 0))) {
    await p.helper.stop();
    const logs = process.env.PEERS_LOG_DIR;
    if (logs) {
      mkdirSync(logs, { recursive: true });
      writeFileSync(join(logs, `${side.key}-${p.role}.log`), p.helper.output());
    }
  }
}

/** Every event handled exactly once, and the stream holding exactly the n published. */
async function verify(side: Side, ctx: SideCtx): Promise<Tally> {
  const tally = readTally(ctx.countFile);
  const problem = exactlyOnceProblem(tally);
  if (problem) throw new Error(`${side.label}: not exactly once: ${problem}`);
  const state = (await ctx.jsm.streams.info(side.stream)).state;
  if (state.last_seq !== ctx.n) throw new Error(`${side.label}: ${side.stream} stored ${state.last_seq} messages, ${ctx.n} were published`);
  return tally;
}

/** One side on a fresh server: its own streams and durables, its own processes. */
async function onFreshServer<R>(side: Side, n: number, live: boolean, fn: (ctx: SideCtx, serverPid?: number) => Promise<R>): Promise<R> {
  const monitorPort = await freePort();
  const server = await NatsServer.start({ serverName: `peers-${side.key}`, extraConfig: `http: "127.0.0.1:${monitorPort}"` });
  const dir = mkdtempSync(join(tmpdir(), `jetbus-peers-${side.key}-`));
  const nc: NatsConnection = await connectNats({ servers: server.url, name: "bench-peers" });
  try {
    await waitForJetStream(nc, 60_000);
    const jsm = await jetstreamManager(nc);
    const ctx: SideCtx = {
      url: server.url,
      nc,
      jsm,
      dir,
      n,
      countFile: join(dir, "tally.json"),
      latencyFile: live ? join(dir, "latency") : undefined,
      monitor: `http://127.0.0.1:${monitorPort}`,
    };
    return await fn(ctx, server.pid);
  } finally {
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A backlog drain: the side's durables exist (prepare) and are paused; the n events are stored;
 * the consumer processes start and report ready; the gate opens. Timed from the first delivery
 * (polled every 2 ms) until every consumer of the side's streams has nothing pending or unacked;
 * CPU over the same span.
 */
async function drainPass(side: Side, n: number): Promise<DrainResult> {
  return onFreshServer(side, n, false, async (ctx, serverPid) => {
    const loadBefore = load();
    await side.prepare({ ...ctx, countFile: join(ctx.dir, "prepare-tally.json") });
    const gated = await consumerNames(ctx.jsm, side.stream);
    if (gated.length === 0) throw new Error(`${side.label}: no consumer on ${side.stream} after prepare`);
    const closedUntil = new Date(Date.now() + 3_600_000);
    for (const name of gated) await ctx.jsm.consumers.pause(side.stream, name, closedUntil);
    const { errors } = await publishWindowed(ctx.nc, n, (i) => benchMessage(side.subject, i));
    if (errors > 0) throw new Error(`${side.label}: ${errors} of ${n} backlog publishes were refused`);
    const procs = await side.start(ctx);
    try {
      for await (const ci of ctx.jsm.consumers.list(side.stream))
        if (ci.delivered.stream_seq > 0)
          throw new Error(`${side.label}: ${ci.name} delivered before the gate opened (did a start-up recreate a paused durable?)`);
      // messages from the gate's opening on (the first deliveries' acks happen before the first poll sees them)
      const counts = await connectionCounts(ctx.monitor);
      const openAt = new Date(Date.now() + RELEASE_MS);
      for (const name of gated) await ctx.jsm.consumers.pause(side.stream, name, openAt);
      const t0 = await firstDelivery(ctx.jsm, side.stream);
      // CPU from the first delivery on: the idle wait for the gate is not the drain's
      const meter = meterFor(procs, serverPid);
      await untilAllHandled(procs, ctx.countFile);
      const t1 = await settledAt(ctx.jsm, side.settled);
      const cpu = cpuOf(meter, n);
      const msgs = msgsPerEvent(counts, await connectionCounts(ctx.monitor), n);
      await sleep(500); // a late duplicate would show in the tally
      await stopAll(side, procs);
      const tally = await verify(side, ctx);
      const seconds = (t1 - t0) / 1000;
      return { rate: n / seconds, cpu, msgs, seconds, load: `${loadBefore} -> ${load()}`, tally };
    } finally {
      await stopAll(side, procs);
    }
  });
}

/**
 * Live: the side's processes run idle, then this process publishes n events at `rate`/s, each
 * stamped with its publish time; each handler records publish -> handler first. The first
 * `warmup` events are left out of the percentiles (process warm-up, JIT).
 */
async function livePass(side: Side, n: number, rate: number, warmup: number): Promise<LiveResult> {
  return onFreshServer(side, n, true, async (ctx, serverPid) => {
    const loadBefore = load();
    await side.prepare({ ...ctx, countFile: join(ctx.dir, "prepare-tally.json"), latencyFile: join(ctx.dir, "prepare-latency") });
    const procs = await side.start(ctx);
    try {
      await sleep(1000); // let start-up work finish before the clock runs
      const meter = meterFor(procs, serverPid);
      const counts = await connectionCounts(ctx.monitor);
      const errors = await paced(ctx.nc, rate, n / rate, (i, t) => benchMessage(side.subject, i, t));
      if (errors > 0) throw new Error(`${side.label}: ${errors} of ${n} publishes were refused`);
      await untilAllHandled(procs, ctx.countFile);
      await settledAt(ctx.jsm, side.settled);
      const cpu = cpuOf(meter, n);
      const msgs = msgsPerEvent(counts, await connectionCounts(ctx.monitor), n);
      await sleep(500);
      await stopAll(side, procs);
      const tally = await verify(side, ctx);
      const all = readSamples(ctx.latencyFile!);
      if (all.length !== n) throw new Error(`${side.label}: ${all.length} latency samples for ${n} events`);
      const kept = all.slice(warmup).sort((a, b) => a - b);
      return {
        p50: percentile(kept, 50),
        p99: percentile(kept, 99),
        max: kept[kept.length - 1]!,
        samples: kept.length,
        cpu,
        msgs,
        load: `${loadBefore} -> ${load()}`,
        tally,
      };
    } finally {
      await stopAll(side, procs);
    }
  });
}

async function runAll<R>(sides: readonly Side[], pass: (s: Side) => Promise<R>): Promise<Outcome<R>[]> {
  const out: Outcome<R>[] = [];
  for (const side of sides) {
    process.stderr.write(`-- ${side.label} (${side.key})\n`);
    try {
      out.push({ side, result: await pass(side) });
    } catch (err) {
      // the other sides still run; the scenario fails at the end
      process.stderr.write(`   FAILED: ${(err as Error).message}\n`);
      out.push({ side, failure: (err as Error).message.split("\n").slice(0, 3).join(" / ") });
    }
  }
  return out;
}

const us = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(1));
const traffic = (t: Traffic | undefined) => (t === undefined ? "-" : `${t.in.toFixed(2)} / ${t.out.toFixed(2)}`);
const x = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? "-" : `${(a / b).toFixed(2)}x`);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function failIfAny(outcomes: readonly Outcome<unknown>[]): void {
  const failed = outcomes.filter((o) => o.failure);
  if (failed.length > 0)
    throw new Error(`peers: ${failed.length} pass(es) failed:\n${failed.map((o) => `  ${o.side.key}: ${o.failure}`).join("\n")}`);
}

function report(mode: string, n: number, version: string): void {
  process.stderr.write(`\n# peers ${mode}, ${n} events, nats-server ${version}, load average now ${load()}\n`);
}

async function serverVersion(): Promise<string> {
  const server = await NatsServer.start({ serverName: "peers-version" });
  try {
    const nc = await connectNats({ servers: server.url });
    const v = nc.info?.version ?? "?";
    await nc.close();
    return v;
  } finally {
    await server.stop();
  }
}

async function drainMode(sides: readonly Side[], n: number): Promise<Comparison[]> {
  const version = await serverVersion();
  const outcomes = await runAll(sides, (s) => drainPass(s, n));
  const byKey = new Map(outcomes.map((o) => [o.side.key, o.result]));
  const peer = byKey.get("moleculer");
  const raw = byKey.get("raw-callback");
  report("drain", n, version);
  const rows = outcomes.map(({ side, result: r }) => {
    if (!r) return [side.label, `FAILED (see below)`, "", "", "", "", "", "", "", "", ""];
    const cpuTarget = side.cpuTargets;
    return [
      side.label,
      Math.round(r.rate).toLocaleString("en-US"),
      `${x(r.rate, peer?.rate)}${side.target ? ` (${side.target})` : ""}`,
      x(r.rate, raw?.rate),
      `${us(r.cpu.consumer)}${cpuTarget?.consumer ? ` (${cpuTarget.consumer})` : ""}`,
      `${us(r.cpu.router)}${cpuTarget?.router ? ` (${cpuTarget.router})` : ""}`,
      `${us(r.cpu.server)}${cpuTarget?.server ? ` (${cpuTarget.server})` : ""}`,
      traffic(r.msgs.consumer),
      traffic(r.msgs.router),
      r.seconds.toFixed(2),
      r.load,
    ];
  });
  process.stderr.write(
    table(
      [
        "consumer",
        "events/s",
        "x moleculer (target)",
        "x raw callback",
        "consumer us/ev (target)",
        "router us/ev (target)",
        "nats-server us/ev (target)",
        "consumer msgs in/out per ev",
        "router msgs in/out per ev",
        "drain s",
        "load (1 5 15 min, before -> after)",
      ],
      rows,
    ) + "\n",
  );
  process.stderr.write(
    `every pass: ${n} events each handled exactly once (counted by the handler), stream held exactly ${n}; ` +
      `msgs in/out: messages the process sent to the server (publishes, acks, pulls, API requests) / got from it (deliveries, replies), per event, from /connz\n`,
  );
  const comparisons: Comparison[] = [];
  for (const { side, result: r } of outcomes) {
    if (!r || !side.key.startsWith("jetbus")) continue;
    if (peer)
      comparisons.push({
        metric: `drain ${n}, ${side.key}`,
        unit: "ev/s",
        jetbus: r.rate,
        raw: peer.rate,
        higherIsBetter: true,
        target: side.target,
        reference: "moleculer",
      });
    if (raw) comparisons.push({ metric: `drain ${n}, ${side.key}`, unit: "ev/s", jetbus: r.rate, raw: raw.rate, higherIsBetter: true });
  }
  failIfAny(outcomes);
  return comparisons;
}

async function liveMode(sides: readonly Side[], n: number, rate: number, warmup: number): Promise<Comparison[]> {
  const version = await serverVersion();
  const outcomes = await runAll(sides, (s) => livePass(s, n, rate, warmup));
  const byKey = new Map(outcomes.map((o) => [o.side.key, o.result]));
  const peer = byKey.get("moleculer");
  const raw = byKey.get("raw-callback");
  report(`live at ${rate}/s (first ${warmup} events left out)`, n, version);
  const rows = outcomes.map(({ side, result: r }) => {
    if (!r) return [side.label, `FAILED (see below)`, "", "", "", "", "", "", "", "", "", ""];
    const jetbus = side.key.startsWith("jetbus");
    return [
      side.label,
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      r.max.toFixed(1),
      `${x(r.p99, raw?.p99)}${jetbus ? " (<= 3x)" : ""}`,
      `${x(r.p99, peer?.p99)}${jetbus ? " (<= 3x)" : ""}`,
      us(r.cpu.consumer),
      us(r.cpu.router),
      us(r.cpu.server),
      traffic(r.msgs.consumer),
      traffic(r.msgs.router),
      r.load,
    ];
  });
  process.stderr.write(
    table(
      [
        "consumer",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p99 x raw (target)",
        "p99 x moleculer (target)",
        "consumer us/ev",
        "router us/ev",
        "nats-server us/ev",
        "consumer msgs in/out per ev",
        "router msgs in/out per ev",
        "load (before -> after)",
      ],
      rows,
    ) + "\n",
  );
  const comparisons: Comparison[] = [];
  for (const { side, result: r } of outcomes) {
    if (!r || !side.key.startsWith("jetbus")) continue;
    const at = `${side.key} p99 @ ${rate}/s`;
    if (raw) comparisons.push({ metric: at, unit: "ms", jetbus: r.p99, raw: raw.p99, higherIsBetter: false, target: "<= 3x" });
    if (peer)
      comparisons.push({
        metric: at,
        unit: "ms",
        jetbus: r.p99,
        raw: peer.p99,
        higherIsBetter: false,
        target: "<= 3x",
        reference: "moleculer",
      });
  }
  failIfAny(outcomes);
  return comparisons;
}

function pick(args: string[]): { rest: string[]; only?: string[] } {
  const flag = args.find((a) => a.startsWith("--only="));
  const only = (flag?.slice("--only=".length) ?? process.env.PEERS_ONLY)?.split(",").filter(Boolean);
  return { rest: args.filter((a) => a !== flag), only };
}

/**
 * jetbus against the consumers its users compare it with, each draining the same events on its own
 * fresh server as its own process: the raw `@nats-io/jetstream` client (consume() with a callback,
 * and as `for await`), `@moleculer/channels` 0.1.8 (maxInFlight 64) and jetbus in several settings.
 * Every event is ~200 bytes of JSON data in jetbus's binary event form (ce-* headers and
 * Nats-Msg-Id), the same bytes for every side; every handler is a no-op that counts the event, and
 * a pass fails unless each event was handled exactly once.
 *
 * Usage: peers [N=100000] [--only=KEY,...]                     drain a backlog of N
 *        peers live [N=30000] [RATE=3000] [WARMUP=3000] [--only=KEY,...]   publish N at RATE/s, latency
 * KEY (also PEERS_ONLY=KEY,...): raw-callback, raw-iterate, moleculer, jetbus-defaults,
 * jetbus-direct, jetbus-lean (markers and indexer off), jetbus-peer (the peer's guarantees).
 * JETBUS_PEERS_ACTOR='{"concurrency":64}' adds settings to every jetbus actor.
 */
const scenario: Scenario = {
  name: "peers",
  description:
    "a no-op durable consumer draining a backlog (or live at a fixed rate): raw consume(), @moleculer/channels and jetbus, CPU per event per process",
  async run(args) {
    const { rest, only } = pick(args);
    const live = rest[0] === "live";
    const pos = live ? rest.slice(1) : rest;
    const known = sideKeys();
    for (const k of only ?? []) if (!known.includes(k)) throw new Error(`peers: no side "${k}"; sides: ${known.join(", ")}`);
    const defaults = live ? PEER_SIDES.filter((s) => s.key !== "raw-iterate") : PEER_SIDES;
    const sides = only ? PEER_SIDES.filter((s) => only.includes(s.key)) : defaults;
    process.stderr.write(`load average at start: ${load()}\n`);
    if (!live) return drainMode(sides, Number(pos[0] ?? 100_000));
    const n = Number(pos[0] ?? 30_000);
    return liveMode(sides, n, Number(pos[1] ?? 3000), Number(pos[2] ?? Math.min(3000, Math.floor(n / 10))));
  },
};
export default scenario;
