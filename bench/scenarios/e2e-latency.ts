import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AckPolicy, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { percentile, type Comparison, type Scenario } from "../harness.ts";
import { readSamples } from "../latency-record.ts";
import { CpuMeter, paced, startHelper, type Helper, type Outgoing } from "../pipeline-support.ts";

const ACTOR_MODULE = fileURLToPath(new URL("../processes/latency-actor.ts", import.meta.url));
const encoder = new TextEncoder();

type Stats = Readonly<{ p50: number; p99: number; max: number; n: number }>;
type Pass = Readonly<{ label: string; run(url: string, nc: NatsConnection, out: string): Promise<Helper[]> }>;

function rawMessage(i: number, t: number): Outgoing {
  const h = headers();
  h.set("Nats-Msg-Id", `lat-${i}`);
  return { subject: "rawev.BenchHappened", data: encoder.encode(JSON.stringify({ i, t })), headers: h };
}

function jetbusMessage(i: number, t: number): Outgoing {
  return encodeEvent(createEvent({ type: "BenchHappened", source: "bench", data: { i, t } }));
}

function consumerProcess(url: string, stream: string, durable: string, out: string): Promise<Helper> {
  return startHelper(["bench/processes/latency-consumer.ts", url, stream, durable, out], /consumer running/);
}

/** Raw one hop: publisher -> RAWEV -> a consumer process on its durable (the smallest possible pipeline). */
const rawOneHop: Pass = {
  label: "raw one hop",
  async run(url, nc, out) {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "RAWEV", subjects: ["rawev.>"] });
    await jsm.consumers.add("RAWEV", { durable_name: "sink", ack_policy: AckPolicy.Explicit });
    return [await consumerProcess(url, "RAWEV", "sink", out)];
  },
};

/** Raw two hops: publisher -> RAWEV -> relay process (bench/processes/raw-hop.ts) -> RAWQ (work queue) -> consumer process. */
const rawTwoHops: Pass = {
  label: "raw two hops",
  async run(url, nc, out) {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "RAWEV", subjects: ["rawev.>"] });
    await jsm.streams.add({ name: "RAWQ", subjects: ["rawq.>"], retention: RetentionPolicy.Workqueue });
    // the router's and an actor's durable limits, as in the pipeline bench
    await jsm.consumers.add("RAWEV", { durable_name: "relay", ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
    await jsm.consumers.add("RAWQ", { durable_name: "sink", ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
    const relay = await startHelper(["bench/processes/raw-hop.ts", url, "relay"], /hop running/);
    return [relay, await consumerProcess(url, "RAWQ", "sink", out)];
  },
};

/** `jetbus router` (defaults: indexer on) and `jetbus actor sink` (defaults: markers on) as processes. */
function jetbusPass(label: string, actorExtra: Record<string, unknown>): Pass {
  return {
    label,
    async run(url, _nc, out) {
      const dir = mkdtempSync(join(tmpdir(), "jetbus-bench-latency-"));
      const config = join(dir, "jetbus.config.json");
      const doc = {
        // LATENCY_ACTOR='{"concurrency":64}' adds settings to the actor (for looking into one side)
        actors: [{ name: "sink", module: ACTOR_MODULE, ...actorExtra, ...JSON.parse(process.env.LATENCY_ACTOR ?? "{}") }],
        routes: { rules: [{ name: "bench", match: { type: "BenchHappened" }, to: ["sink"] }] },
        observability: { log_level: "info" },
      };
      writeFileSync(config, JSON.stringify(doc));
      const common = ["--config", config, "--servers", url, "--no-http"];
      const noIndexer = process.env.LATENCY_NO_INDEXER ? ["--no-indexer"] : [];
      const router = await startHelper(["bin/jetbus.js", "router", ...common, ...noIndexer], /router running/);
      const actor = await startHelper(["bin/jetbus.js", "actor", "sink", ...common], /actor running/, { LATENCY_OUT: out });
      return [router, actor];
    },
  };
}

function stats(samples: readonly number[], warmup: number): Stats {
  const kept = samples.slice(warmup).sort((a, b) => a - b);
  return { p50: percentile(kept, 50), p99: percentile(kept, 99), max: kept[kept.length - 1] ?? NaN, n: kept.length };
}

/** One pass on a fresh server, so no pass inherits another's streams or consumers. */
async function measure(pass: Pass, rate: number, seconds: number, warmupSeconds: number): Promise<Stats> {
  const server = await NatsServer.start({ serverName: "e2e-latency" });
  const nc = await connectNats({ servers: server.url });
  const dir = mkdtempSync(join(tmpdir(), "jetbus-latency-samples-"));
  const out = join(dir, "samples");
  const helpers: Helper[] = [];
  try {
    await waitForJetStream(nc, 60_000);
    helpers.push(...(await pass.run(server.url, nc, out)));
    const make = pass.label.startsWith("raw") ? rawMessage : jetbusMessage;
    const pids: Record<string, number | undefined> = { "nats-server": server.pid };
    for (const h of helpers) pids[roleOf(h)] = h.child.pid;
    const cpu = new CpuMeter(pids);
    const errors = await paced(nc, rate, seconds, make);
    if (errors > 0) throw new Error(`${pass.label}: ${errors} publishes were refused`);
    const total = rate * seconds;
    const deadline = Date.now() + 120_000;
    while (readSamples(out).length < total) {
      if (Date.now() > deadline) throw new Error(`${pass.label}: ${readSamples(out).length} of ${total} events handled after 120 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const samples = readSamples(out);
    const cpuLine = cpu.report(total);
    if (process.env.LATENCY_TRACE) {
      const perSecond = [];
      for (let i = 0; i < samples.length; i += rate) perSecond.push(stats(samples.slice(i, i + rate), 0).p50.toFixed(1));
      process.stderr.write(`${pass.label}: p50 per second of publishing: ${perSecond.join(" ")}\n`);
    }
    const s = stats(samples, rate * warmupSeconds);
    process.stderr.write(
      `${pass.label.padEnd(22)} p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  max ${s.max.toFixed(1)} ms  (${s.n} events, load ${loadavg()[0]!.toFixed(1)}); ${cpuLine} (while publishing and catching up)\n`,
    );
    return s;
  } finally {
    for (const h of helpers.reverse()) await h.stop();
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a helper process is, for the CPU line: router, actor, relay or consumer. */
function roleOf(h: Helper): string {
  const a = h.child.spawnargs;
  const script = a.findIndex((x) => x.endsWith(".ts") || x.endsWith(".js"));
  if (a[script] === "bin/jetbus.js") return a[script + 1] ?? "jetbus";
  if (a[script]?.includes("raw-hop")) return a[script + 2] === "relay" ? "relay" : "consumer";
  return "consumer";
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const ALL_PASSES: readonly Pass[] = [
  rawOneHop,
  rawTwoHops,
  jetbusPass("jetbus copy", {}),
  jetbusPass("jetbus direct", { delivery: "direct" }),
];
/** LATENCY_ONLY=label,label runs only those passes (the figures need the raw ones; for looking into one side). */
const PASSES = process.env.LATENCY_ONLY ? ALL_PASSES.filter((p) => process.env.LATENCY_ONLY!.split(",").includes(p.label)) : ALL_PASSES;

/**
 * Publish -> handler latency at a fixed rate, every side as processes on one machine (one clock):
 * the publisher (this process) stamps wallNow() into each event's data; the sink process records
 * its own wallNow() minus the stamp as the first thing its handler does. Sides: the raw client's
 * one hop (consume() on a durable of the stream published to), its two hops (relay process
 * between two streams), and `jetbus router` + `jetbus actor` with defaults. The first
 * `warmup` seconds of samples are dropped (process start-up, JIT). With `repeats` > 1 the
 * passes run in rounds (raw and jetbus interleaved) and each figure is the median over rounds.
 *
 * Usage: e2e-latency [RATE=5000] [SECONDS=20] [REPEATS=1] [WARMUP_SECONDS=2]
 */
const scenario: Scenario = {
  name: "e2e-latency",
  description: "publish -> actor handler start at a fixed rate: jetbus router + actor processes vs the raw client's one and two hops",
  async run(args) {
    const rate = Number(args[0] ?? 5000);
    const seconds = Number(args[1] ?? 20);
    const repeats = Number(args[2] ?? 1);
    const warmupSeconds = Number(args[3] ?? 2);
    process.stderr.write(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );
    const results = PASSES.map(() => [] as Stats[]);
    for (let r = 0; r < repeats; r++) {
      for (const [i, pass] of PASSES.entries()) results[i]!.push(await measure(pass, rate, seconds, warmupSeconds));
    }
    process.stderr.write(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );
    const med = results.map((rs) => ({
      p50: median(rs.map((s) => s.p50)),
      p99: median(rs.map((s) => s.p99)),
      max: median(rs.map((s) => s.max)),
    }));
    const [one, two] = [med[0]!, med[1]!];
    const rows: Comparison[] = [];
    for (const [i, pass] of PASSES.entries()) {
      if (!pass.label.startsWith("jetbus")) continue;
      const jb = med[i]!;
      const at = `@ ${rate}/s`;
      rows.push(
        { metric: `p50 ${pass.label} vs raw one hop ${at}`, unit: "ms", jetbus: jb.p50, raw: one.p50, higherIsBetter: false },
        {
          metric: `p99 ${pass.label} vs raw one hop ${at}`,
          unit: "ms",
          jetbus: jb.p99,
          raw: one.p99,
          higherIsBetter: false,
          target: "<= 3x",
        },
        { metric: `max ${pass.label} vs raw one hop ${at}`, unit: "ms", jetbus: jb.max, raw: one.max, higherIsBetter: false },
        { metric: `p50 ${pass.label} vs raw two hops ${at}`, unit: "ms", jetbus: jb.p50, raw: two.p50, higherIsBetter: false },
        { metric: `p99 ${pass.label} vs raw two hops ${at}`, unit: "ms", jetbus: jb.p99, raw: two.p99, higherIsBetter: false },
        { metric: `max ${pass.label} vs raw two hops ${at}`, unit: "ms", jetbus: jb.max, raw: two.max, higherIsBetter: false },
      );
    }
    return rows;
  },
};
export default scenario;
