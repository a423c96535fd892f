import "reflect-metadata";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureInbox } from "../../runtime/actor/mod.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Streams } from "../../runtime/topology.ts";
import type { Comparison, Scenario } from "../harness.ts";
import { settledAt, startHelper, type Helper } from "../pipeline-support.ts";
import {
  backlogOf,
  drained,
  ensureRawStream,
  RAW_STREAM,
  spawnActorProcess,
  spawnRawWorker,
  stopAll,
  writeConfigFile,
  type Worker,
} from "./scaling.ts";

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** RSS samples of one process, every `everyMs` from its spawn (or from when it is handed over) on. */
function rssSampler(everyMs = 100): { onSpawn(pid: number): void; stop(): Array<{ at: number; mib: number }> } {
  const samples: Array<{ at: number; mib: number }> = [];
  let timer: NodeJS.Timeout | undefined;
  let pid = 0;
  const sample = () => {
    try {
      samples.push({ at: performance.now(), mib: rssMiB(pid) });
    } catch {
      // not started or already gone
    }
  };
  return {
    onSpawn(p) {
      pid = p;
      timer = setInterval(sample, everyMs);
    },
    stop() {
      clearInterval(timer);
      sample();
      return samples;
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Publishes n seed-style events through the bulk path (a 1M backlog in about a minute rather than several). */
async function fillFast(nc: NatsConnection, subject: string, n: number, tag: string): Promise<void> {
  const bulk = new BulkPublisher(nc, { window: 4096, ackTimeoutMs: 20_000 });
  for (let base = 0; base < n; base += 10_000) {
    const pending: Promise<unknown>[] = [];
    for (let i = base; i < Math.min(n, base + 10_000); i++) {
      const e = createEvent({
        type: "UserCreated",
        data: { user_id: `u${i}`, username: "bench", email: "bench@example.com" },
        source: "bench",
      });
      pending.push(bulk.publish(encodeEvent(e, { subject, msgId: `${e.id}:${tag}` })));
    }
    await Promise.all(pending);
  }
  await bulk.close();
}

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

type Drain = Readonly<{ median: number; peak: number; samples: number; rate: number }>;

function summary(samples: Array<{ at: number; mib: number }>, from: number, to: number, n: number, since: number): Drain {
  const draining = samples.filter((x) => x.at >= from && x.at <= to).map((x) => x.mib);
  return {
    median: median(draining),
    peak: Math.max(...samples.map((x) => x.mib)),
    samples: draining.length,
    rate: n / ((to - since) / 1000),
  };
}

function say(line: string): void {
  process.stderr.write(`  ${line} (load ${loadavg()[0]!.toFixed(1)})\n`);
}

const PIPELINE_CONFIG = {
  actors: [{ name: "mem", handler: "noop" }],
  routes: { rules: [{ name: "mem", match: { type: "UserCreated" }, to: ["mem"] }] },
  observability: { log_level: "info" },
};

/**
 * `jetbus router` (indexer on) and `jetbus actor mem` (markers on: the defaults) draining n events
 * stored before either runs, on a fresh server: the RSS of both processes, sampled every 250 ms
 * from when each is ready until every durable of the store and the inbox has nothing pending or
 * unacked. The streams and durables are made by starting both once before the backlog.
 */
async function pipelineDrain(n: number, tag: string): Promise<{ router: Drain; actor: Drain }> {
  const server = await NatsServer.start({ serverName: `memory-${tag}` });
  const dir = mkdtempSync(join(tmpdir(), "jetbus-bench-memory-"));
  const helpers: Helper[] = [];
  try {
    const nc = await connectNats({ servers: server.url, name: "bench-memory" });
    const jsm = await jetstreamManager(nc);
    const config = join(dir, "jetbus.config.json");
    writeFileSync(config, JSON.stringify(PIPELINE_CONFIG));
    const common = ["--config", config, "--servers", server.url, "--no-http"];
    const start = async () => {
      const router = await startHelper(["bin/jetbus.js", "router", ...common], /router running/);
      helpers.push(router);
      const actor = await startHelper(["bin/jetbus.js", "actor", "mem", ...common], /actor running/);
      helpers.push(actor);
      return { router, actor };
    };
    const first = await start();
    await first.actor.stop();
    await first.router.stop();
    const f0 = performance.now();
    await fillFast(nc, "events.UserCreated", n, tag);
    const t0 = performance.now();
    const { router, actor } = await start();
    const ready = performance.now();
    const rs = rssSampler(250);
    const as = rssSampler(250);
    rs.onSpawn(router.child.pid!);
    as.onSpawn(actor.child.pid!);
    // polled every 250 ms: a tighter poll would cost the server more than the drain's last moments are worth
    const end = await settledAt(jsm, [Streams.Events, Streams.Inbox], Math.max(600_000, n * 10), 250);
    const r = summary(rs.stop(), ready, end, n, t0);
    const a = summary(as.stop(), ready, end, n, t0);
    await actor.stop();
    await router.stop();
    await nc.close();
    say(
      `${tag}: filled ${n} in ${((t0 - f0) / 1000).toFixed(0)} s, drained at ${r.rate.toFixed(0)} ev/s (incl. start-up); ` +
        `RSS median router ${r.median.toFixed(1)} MiB, actor ${a.median.toFixed(1)} MiB over ${a.samples} samples; peak router ${r.peak.toFixed(1)}, actor ${a.peak.toFixed(1)} MiB`,
    );
    return { router: r, actor: a };
  } finally {
    for (const h of helpers) await h.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The `actor` and `raw` parts on one server: idle RSS, then each draining a backlog of `small` and
 * of `large` put straight into its stream (the actor's inbox; a raw work queue).
 */
async function inboxParts(small: number, large: number, actor: boolean, raw: boolean): Promise<Comparison[]> {
  const server = await NatsServer.start();
  try {
    const nc = await connectNats({ servers: server.url, name: "bench-memory" });
    const jsm = await jetstreamManager(nc);
    // markers off: the question is what the backlog costs the process, not KV write speed
    const doc = { actors: [{ name: "mem", handler: "noop", idempotency: { enabled: false } }], observability: { log_level: "warn" } };
    await ensureInbox(jsm, configFrom(doc));
    await ensureRawStream(jsm, "rawmem");
    const file = writeConfigFile(doc);

    const drain = async (
      start: (onSpawn: (pid: number) => void) => Promise<Worker>,
      subject: string,
      stream: string,
      durable: string,
      n: number,
      tag: string,
    ): Promise<Drain> => {
      const f0 = performance.now();
      await fillFast(nc, subject, n, tag);
      const before = await backlogOf(jsm, stream, durable);
      if (before < n) throw new Error(`backlog not in place: ${before} of ${n} messages for ${durable}`);
      const sampler = rssSampler();
      const t0 = performance.now();
      const w = await start(sampler.onSpawn);
      const ready = performance.now();
      await drained(jsm, stream, durable);
      const end = performance.now();
      const samples = sampler.stop();
      await stopAll([w]);
      const r = summary(samples, ready, end, n, t0);
      say(
        `${tag}: filled ${n} in ${((t0 - f0) / 1000).toFixed(0)} s, drained at ${r.rate.toFixed(0)} ev/s (incl. start-up), RSS median ${r.median.toFixed(1)} MiB over ${r.samples} samples, peak ${r.peak.toFixed(1)} MiB`,
      );
      return r;
    };
    const idle = async (start: () => Promise<Worker>): Promise<number> => {
      const w = await start();
      await settle(3000);
      const mib = rssMiB(w.pid);
      await stopAll([w]);
      return mib;
    };
    const none: Drain = { median: NaN, peak: NaN, samples: 0, rate: NaN };
    const actorIdle = actor ? await idle(() => spawnActorProcess(nc, server.url, file, "mem")) : NaN;
    const rawIdle = raw ? await idle(() => spawnRawWorker(server.url, "rawmem", 0)) : NaN;
    const spawnActor = (on: (pid: number) => void) => spawnActorProcess(nc, server.url, file, "mem", on);
    const spawnRaw = (on: (pid: number) => void) => spawnRawWorker(server.url, "rawmem", 0, on);
    const actorSmall = actor ? await drain(spawnActor, "actors.mem.0", Streams.Inbox, "mem", small, "jetbus-small") : none;
    const actorLarge = actor ? await drain(spawnActor, "actors.mem.0", Streams.Inbox, "mem", large, "jetbus-large") : none;
    const rawSmall = raw ? await drain(spawnRaw, "benchraw.rawmem", RAW_STREAM, "rawmem", small, "raw-small") : none;
    const rawLarge = raw ? await drain(spawnRaw, "benchraw.rawmem", RAW_STREAM, "rawmem", large, "raw-large") : none;
    await nc.close();
    const rows: Comparison[] = [];
    if (actor) {
      const growth = actorLarge.median - actorSmall.median;
      say(
        `conclusion: a ${large / small}x larger backlog moved the actor's draining RSS by ${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MiB (${((100 * growth) / actorSmall.median).toFixed(1)}%), ` +
          `idle ${actorIdle.toFixed(1)} MiB -> draining ${actorLarge.median.toFixed(1)} MiB`,
      );
      rows.push({
        metric: `actor RSS draining ${large} vs ${small} (median)`,
        unit: "MiB",
        jetbus: actorLarge.median,
        raw: actorSmall.median,
        higherIsBetter: false,
        target: "<= 1.1x",
        reference: `${small / 1000}k backlog`,
      });
    }
    if (actor && raw)
      rows.push(
        { metric: "RSS idle", unit: "MiB", jetbus: actorIdle, raw: rawIdle, higherIsBetter: false },
        {
          metric: `RSS draining ${small} events (median)`,
          unit: "MiB",
          jetbus: actorSmall.median,
          raw: rawSmall.median,
          higherIsBetter: false,
        },
        {
          metric: `RSS draining ${large} events (median)`,
          unit: "MiB",
          jetbus: actorLarge.median,
          raw: rawLarge.median,
          higherIsBetter: false,
        },
        { metric: `peak RSS draining ${small} events`, unit: "MiB", jetbus: actorSmall.peak, raw: rawSmall.peak, higherIsBetter: false },
        { metric: `peak RSS draining ${large} events`, unit: "MiB", jetbus: actorLarge.peak, raw: rawLarge.peak, higherIsBetter: false },
        {
          metric: `median growth ${small} -> ${large} backlog`,
          unit: "MiB",
          jetbus: actorLarge.median - actorSmall.median,
          raw: rawLarge.median - rawSmall.median,
          higherIsBetter: false,
          target: "jetbus ~0 (bounded by concurrency)",
        },
      );
    if (raw && !actor)
      rows.push({
        metric: `raw RSS draining ${large} vs ${small} (median)`,
        unit: "MiB",
        jetbus: rawLarge.median,
        raw: rawSmall.median,
        higherIsBetter: false,
        reference: `${small / 1000}k backlog`,
      });
    return rows;
  } finally {
    await server.stop();
  }
}

const PARTS = ["actor", "raw", "pipeline"] as const;

/**
 * RSS while draining a backlog of N/10 and of N events (default N = 1M); bounded memory: the two
 * medians match (issue 23: within 1.1x). "While draining" is the median of samples from the moment
 * a process is ready until the backlog is gone (start-up, the same whatever the backlog, is left
 * out); the peak is reported too. Parts (all by default; --only=PART,... or MEMORY_ONLY):
 * - `actor`: one `jetbus actor` process (no-op handler, markers off, concurrency 16,
 *   max_ack_pending 1000) on a backlog put straight into its inbox, idle and draining;
 * - `raw`: a raw consume()+ack process on the same backlogs (the reference for `actor`);
 * - `pipeline`: `jetbus router` and `jetbus actor` with the defaults (indexer, copies, markers)
 *   draining a backlog in the event store, each size on a fresh server.
 * Usage: memory [N=1000000] [--only=actor,raw,pipeline]
 */
const scenario: Scenario = {
  name: "memory",
  description:
    "RSS while draining a pre-filled backlog (N/10 vs N, default N = 1M): an actor process (and a raw consume() process) on an inbox backlog; router + actor with defaults on a store backlog",
  async run(args) {
    const flag = args.find((a) => a.startsWith("--only="));
    const only = (flag?.slice("--only=".length) ?? process.env.MEMORY_ONLY)?.split(",").filter(Boolean);
    for (const p of only ?? [])
      if (!(PARTS as readonly string[]).includes(p)) throw new Error(`memory: no part "${p}"; parts: ${PARTS.join(", ")}`);
    const on = (p: (typeof PARTS)[number]) => !only || only.includes(p);
    const positional = args.filter((a) => a !== flag);
    const large = Number(positional[0] ?? 1_000_000);
    const small = Math.max(1000, Math.floor(large / 10));
    process.stderr.write(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );
    const rows: Comparison[] = [];
    if (on("actor") || on("raw")) rows.push(...(await inboxParts(small, large, on("actor"), on("raw"))));
    if (on("pipeline")) {
      const s = await pipelineDrain(small, "pipeline-small");
      const l = await pipelineDrain(large, "pipeline-large");
      const ref = `${small / 1000}k backlog`;
      rows.push(
        {
          metric: `router RSS draining ${large} vs ${small} (median)`,
          unit: "MiB",
          jetbus: l.router.median,
          raw: s.router.median,
          higherIsBetter: false,
          target: "<= 1.1x",
          reference: ref,
        },
        {
          metric: `actor RSS draining ${large} vs ${small} (median)`,
          unit: "MiB",
          jetbus: l.actor.median,
          raw: s.actor.median,
          higherIsBetter: false,
          target: "<= 1.1x",
          reference: ref,
        },
        {
          metric: `router peak RSS ${large} vs ${small}`,
          unit: "MiB",
          jetbus: l.router.peak,
          raw: s.router.peak,
          higherIsBetter: false,
          reference: ref,
        },
        {
          metric: `actor peak RSS ${large} vs ${small}`,
          unit: "MiB",
          jetbus: l.actor.peak,
          raw: s.actor.peak,
          higherIsBetter: false,
          reference: ref,
        },
      );
    }
    process.stderr.write(
      `load average at end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );
    return rows;
  },
};
export default scenario;
