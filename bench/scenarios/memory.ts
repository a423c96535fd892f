import "reflect-metadata";
import { readFileSync } from "node:fs";
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

/** RSS samples of one process, every 100 ms from its spawn on. */
function rssSampler(): { onSpawn(pid: number): void; stop(): Array<{ at: number; mib: number }> } {
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
      timer = setInterval(sample, 100);
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

/**
 * RSS of one `jetbus actor` process (no-op handler, concurrency 16, max_ack_pending 1000): idle,
 * and while draining a pre-filled backlog of a tenth of N and of N events, vs a raw consume()+ack
 * process draining the same backlogs. "While draining" is the median of 100 ms samples from the
 * moment the process is ready until the backlog is gone (start-up, which is the same whatever the
 * backlog, is left out); the peak is reported too. Bounded memory: the two medians match.
 * Arg: N, the large backlog (default 1000000).
 */
const scenario: Scenario = {
  name: "memory",
  description:
    "RSS of one actor process idle and while draining a pre-filled backlog (N/10 vs N, default N = 1M) vs a raw consume() process",
  async run(args) {
    const large = Number(args[0] ?? 1_000_000);
    const small = Math.max(1000, Math.floor(large / 10));
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
      ) => {
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
        const draining = samples.filter((x) => x.at >= ready && x.at <= end).map((x) => x.mib);
        const r = {
          median: median(draining),
          peak: Math.max(...samples.map((x) => x.mib)),
          samples: draining.length,
          rate: n / ((end - t0) / 1000),
        };
        process.stderr.write(
          `  ${tag}: filled ${n} in ${((t0 - f0) / 1000).toFixed(0)} s, drained at ${r.rate.toFixed(0)} ev/s (incl. start-up), RSS median ${r.median.toFixed(1)} MiB over ${r.samples} samples, peak ${r.peak.toFixed(1)} MiB\n`,
        );
        return r;
      };

      const idleActor = await spawnActorProcess(nc, server.url, file, "mem");
      await settle(3000);
      const actorIdle = rssMiB(idleActor.pid);
      await stopAll([idleActor]);
      const idleRaw = await spawnRawWorker(server.url, "rawmem", 0);
      await settle(3000);
      const rawIdle = rssMiB(idleRaw.pid);
      await stopAll([idleRaw]);

      const actorSmall = await drain(
        (on) => spawnActorProcess(nc, server.url, file, "mem", on),
        "actors.mem.0",
        Streams.Inbox,
        "mem",
        small,
        "jetbus-small",
      );
      const actorLarge = await drain(
        (on) => spawnActorProcess(nc, server.url, file, "mem", on),
        "actors.mem.0",
        Streams.Inbox,
        "mem",
        large,
        "jetbus-large",
      );
      const rawSmall = await drain(
        (on) => spawnRawWorker(server.url, "rawmem", 0, on),
        "benchraw.rawmem",
        RAW_STREAM,
        "rawmem",
        small,
        "raw-small",
      );
      const rawLarge = await drain(
        (on) => spawnRawWorker(server.url, "rawmem", 0, on),
        "benchraw.rawmem",
        RAW_STREAM,
        "rawmem",
        large,
        "raw-large",
      );
      await nc.close();
      const growth = actorLarge.median - actorSmall.median;
      process.stderr.write(
        `  conclusion: a ${large / small}x larger backlog moved the actor's draining RSS by ${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MiB (${((100 * growth) / actorSmall.median).toFixed(1)}%), ` +
          `idle ${actorIdle.toFixed(1)} MiB -> draining ${actorLarge.median.toFixed(1)} MiB\n`,
      );
      return [
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
          jetbus: growth,
          raw: rawLarge.median - rawSmall.median,
          higherIsBetter: false,
          target: "jetbus ~0 (bounded by concurrency)",
        },
      ] satisfies Comparison[];
    } finally {
      await server.stop();
    }
  },
};
export default scenario;
