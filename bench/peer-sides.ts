/**
 * The sides of the `peers` bench: what each consumer needs on a fresh server (prepare: its streams
 * and durables) and how its processes start. Each side's handler is a no-op that counts the event
 * (bench/event-count.ts) and, live, records its latency first (bench/latency-record.ts).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AckPolicy, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { createEvent, encodeEvent } from "../runtime/events/codec.ts";
import { Streams } from "../runtime/topology.ts";
import { ALL_HANDLED, readTally, type Tally } from "./event-count.ts";
import { startHelper, type Helper, type Outgoing } from "./pipeline-support.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const PEER_ACTOR = fileURLToPath(new URL("./processes/peer-actor.ts", import.meta.url));

export type SideCtx = Readonly<{
  url: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** A temp dir of this pass (config files). */
  dir: string;
  /** Events of the pass; the handler counts 0..n-1. */
  n: number;
  /** Where the consumer process keeps its tally. */
  countFile: string;
  /** Live passes: where the handler appends its latency samples. */
  latencyFile?: string;
  /** The server's monitoring endpoint (http://127.0.0.1:PORT). */
  monitor: string;
}>;

/** A process of a side: the one running the handler, or jetbus's router. */
export type Proc = Readonly<{ role: "consumer" | "router"; helper: Helper }>;

export type Side = Readonly<{
  /** The name --only and PEERS_ONLY select it by. */
  key: string;
  label: string;
  /** The stream the events are published to; its durables are what the drain gate pauses. */
  stream: string;
  subject: string;
  /** Streams every consumer of which must have nothing pending or unacked once the pass is done. */
  settled: readonly string[];
  /** Streams and durables in place, as the side's own code makes them (by starting it once where it makes them). */
  prepare(ctx: SideCtx): Promise<void>;
  /** The side's processes, started and ready. */
  start(ctx: SideCtx): Promise<Proc[]>;
  /** Issue 23's target for events/s against @moleculer/channels. */
  target?: string;
  /** Issue 23's targets for CPU us per event. */
  cpuTargets?: Readonly<{ consumer?: string; router?: string; server?: string }>;
}>;

const SAMPLE = { i: 99_999, user_id: "user99999", username: "john_doe", email: "john@example.com", note: "" };
/** Pads the data to 200 bytes of JSON (a drained event; a live one adds its `t`). */
const NOTE = "x".repeat(200 - JSON.stringify(SAMPLE).length);

/**
 * Event i as jetbus's producers write it (binary form: ce-* headers, Nats-Msg-Id = id `bench-<i>`,
 * the data as the JSON body), on `subject`. Every side gets these bytes; `t` (publish time) live.
 */
export function benchMessage(subject: string, i: number, t?: number): Outgoing {
  const data = { i, ...(t === undefined ? {} : { t }), user_id: `user${i}`, username: "john_doe", email: "john@example.com", note: NOTE };
  return encodeEvent(createEvent({ id: `bench-${i}`, type: "BenchHappened", source: "bench", data }), { subject });
}

function latencyEnv(ctx: SideCtx): NodeJS.ProcessEnv {
  return ctx.latencyFile ? { LATENCY_OUT: ctx.latencyFile } : {};
}

async function stopProcs(procs: readonly Proc[]): Promise<void> {
  for (const p of procs) await p.helper.stop();
}

function rawSide(form: "callback" | "iterate"): Side {
  return {
    key: `raw-${form}`,
    label: form === "callback" ? "raw consume({ callback }) + ack" : "raw for await consume() + ack",
    stream: "RAWEV",
    subject: "rawev.BenchHappened",
    settled: ["RAWEV"],
    async prepare(ctx) {
      await ctx.jsm.streams.add({ name: "RAWEV", subjects: ["rawev.>"] });
      // the server's and the client's defaults otherwise (max_ack_pending 1000, pulls of 100)
      await ctx.jsm.consumers.add("RAWEV", { durable_name: "sink", ack_policy: AckPolicy.Explicit });
    },
    async start(ctx) {
      const args = ["bench/processes/peer-raw.ts", ctx.url, "RAWEV", "sink", form, String(ctx.n), ctx.countFile];
      return [{ role: "consumer", helper: await startHelper(args, /consumer running/, latencyEnv(ctx)) }];
    },
  };
}

const MOLECULER_CHANNEL = "peer.BenchHappened";
const MOLECULER_GROUP = "peers";

function moleculerSide(): Side {
  const stream = MOLECULER_CHANNEL.split(".").join("_"); // how the adapter names it
  const side: Side = {
    key: "moleculer",
    label: "@moleculer/channels 0.1.8 (maxInFlight 64)",
    stream,
    subject: MOLECULER_CHANNEL,
    settled: [stream],
    async prepare(ctx) {
      // a group created the first time starts at new messages: subscribe once before the backlog
      await stopProcs(await side.start(ctx));
      const ci = await ctx.jsm.consumers.info(stream, MOLECULER_GROUP);
      if (ci.config.max_ack_pending !== 64)
        throw new Error(`moleculer's durable has max_ack_pending ${ci.config.max_ack_pending}, not the 64 its maxInFlight should set`);
    },
    async start(ctx) {
      const args = ["bench/processes/peer-moleculer.ts", ctx.url, MOLECULER_CHANNEL, MOLECULER_GROUP, String(ctx.n), ctx.countFile];
      return [{ role: "consumer", helper: await startHelper(args, /consumer running/, latencyEnv(ctx)) }];
    },
  };
  return side;
}

type JetbusVariant = Readonly<{
  key: string;
  label: string;
  markers: boolean;
  indexer: boolean;
  direct: boolean;
  /** false: no `jetbus router` process (the store is made by `jetbus store apply`). */
  router: boolean;
  /** Also off what @moleculer/channels does not do by default: dead letters and the handler timeout. */
  peerGuarantees?: boolean;
  target?: string;
  cpuTargets?: Side["cpuTargets"];
  /** The jetbus command the side runs (default: this checkout's bin/jetbus.js). */
  bin?: string;
  /** Environment of its processes (another checkout's tsconfig, so tsx compiles its decorators). */
  env?: Record<string, string>;
}>;

/** `jetbus store apply --yes`: the store for a side that runs no router (routers create it themselves). */
function storeApply(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/jetbus.js", "store", "apply", "--yes", ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`jetbus store apply exited ${code}:\n${out}`))));
  });
}

function jetbusSide(v: JetbusVariant): Side {
  const configFile = (ctx: SideCtx) => join(ctx.dir, "jetbus.config.json");
  const common = (ctx: SideCtx) => ["--config", configFile(ctx), "--servers", ctx.url];
  const side: Side = {
    key: v.key,
    label: v.label,
    stream: Streams.Events,
    subject: "events.BenchHappened",
    settled: [Streams.Events, Streams.Inbox],
    target: v.target,
    cpuTargets: v.cpuTargets,
    async prepare(ctx) {
      const actor = {
        name: "sink",
        module: PEER_ACTOR,
        idempotency: { enabled: v.markers },
        ...(v.direct ? { delivery: "direct" } : {}),
        ...(v.peerGuarantees ? { dead_letter: { enabled: false }, timeout: 0 } : {}),
        // e.g. JETBUS_PEERS_ACTOR='{"concurrency":64}' (for looking into one side)
        ...(JSON.parse(process.env.JETBUS_PEERS_ACTOR ?? "{}") as object),
      };
      const doc = {
        actors: [actor],
        routes: { rules: [{ name: "bench", match: { type: "BenchHappened" }, to: ["sink"] }] },
        observability: { log_level: "info" },
      };
      writeFileSync(configFile(ctx), JSON.stringify(doc));
      if (!v.router) await storeApply(common(ctx));
      await stopProcs(await side.start(ctx));
    },
    async start(ctx) {
      const procs: Proc[] = [];
      try {
        if (v.router) {
          const args = [v.bin ?? "bin/jetbus.js", "router", ...common(ctx), "--no-http", ...(v.indexer ? [] : ["--no-indexer"])];
          procs.push({ role: "router", helper: await startHelper(args, /router running/, v.env) });
        }
        const env = { ...v.env, PEER_COUNT_OUT: ctx.countFile, PEER_N: String(ctx.n), ...latencyEnv(ctx) };
        const args = [v.bin ?? "bin/jetbus.js", "actor", "sink", ...common(ctx), "--no-http"];
        procs.push({ role: "consumer", helper: await startHelper(args, /actor running/, env) });
        return procs;
      } catch (err) {
        await stopProcs(procs);
        throw err;
      }
    },
  };
  return side;
}

const JETBUS_VARIANTS: readonly JetbusVariant[] = [
  {
    key: "jetbus-defaults",
    label: "jetbus defaults (router + indexer, copy, markers)",
    markers: true,
    indexer: true,
    direct: false,
    router: true,
    target: ">= 0.35x",
    cpuTargets: { consumer: "<= 15", router: "<= 20", server: "<= 40" },
  },
  {
    key: "jetbus-direct",
    label: 'jetbus "delivery": "direct", defaults',
    markers: true,
    indexer: true,
    direct: true,
    router: true,
    target: ">= 0.45x",
  },
  {
    key: "jetbus-lean",
    label: "jetbus markers + indexer off (copies)",
    markers: false,
    indexer: false,
    direct: false,
    router: true,
  },
  {
    key: "jetbus-peer",
    label: "jetbus at the peer's guarantees (direct; no markers, indexer, router, DLQ, timeout)",
    markers: false,
    indexer: false,
    direct: true,
    router: false,
    peerGuarantees: true,
    target: ">= 1.0x",
  },
];

/**
 * JETBUS_BENCH_BASE=DIR (another checkout, e.g. `git archive main | tar -x -C DIR` with a
 * node_modules link) adds a twin of each jetbus side running DIR's jetbus: before and after a
 * change, side by side in one run (`--only=jetbus-defaults,jetbus-defaults@base`).
 */
const base = process.env.JETBUS_BENCH_BASE;
const baseVariants = base
  ? JETBUS_VARIANTS.map((v) => ({
      ...v,
      key: `${v.key}@base`,
      label: `${v.label} [${base}]`,
      bin: join(base, "bin", "jetbus.js"),
      env: { TSX_TSCONFIG_PATH: join(base, "tsconfig.json") },
    }))
  : [];

export const PEER_SIDES: readonly Side[] = [
  rawSide("callback"),
  rawSide("iterate"),
  moleculerSide(),
  ...[...JETBUS_VARIANTS, ...baseVariants].map(jetbusSide),
];

export function sideKeys(): string[] {
  return PEER_SIDES.map((s) => s.key);
}

function describe(t: Tally | undefined): string {
  return t ? `${t.distinct} of ${t.expected} events handled (${t.handled} handlings, ${t.duplicates} duplicates)` : "no tally yet";
}

/**
 * Resolves once the consumer process prints ALL_HANDLED; fails when it exits first or its tally
 * has not moved for `stallMs` (an event lost would otherwise wait forever).
 */
export function untilAllHandled(procs: readonly Proc[], countFile: string, stallMs = 30_000): Promise<void> {
  const consumer = procs.find((p) => p.role === "consumer")!.helper;
  return new Promise((resolve, reject) => {
    let last = -1;
    let lastChange = Date.now();
    const finish = (err?: Error) => {
      clearInterval(timer);
      consumer.child.stdout!.off("data", check);
      if (err) reject(err);
      else resolve();
    };
    // registered after startHelper's own listener, so output() already holds the new chunk
    const check = () => {
      if (consumer.output().includes(ALL_HANDLED)) finish();
    };
    const timer = setInterval(() => {
      if (consumer.child.exitCode !== null || consumer.child.signalCode !== null)
        return finish(new Error(`the consumer process exited before handling every event:\n${consumer.output().slice(-2000)}`));
      let t: Tally | undefined;
      try {
        t = readTally(countFile);
      } catch {
        // not written yet
      }
      if (t && t.handled !== last) {
        last = t.handled;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > stallMs) finish(new Error(`no progress for ${stallMs / 1000} s: ${describe(t)}`));
    }, 1000);
    consumer.child.stdout!.on("data", check);
    check();
  });
}
