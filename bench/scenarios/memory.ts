import "reflect-metadata";
import { readFileSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureInbox } from "../../runtime/actor/mod.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { Streams } from "../../runtime/topology.ts";
import type { Comparison, Scenario } from "../harness.ts";
import { backlogOf, drained, ensureRawStream, fill, RAW_STREAM, spawnActorProcess, spawnRawWorker, stopAll, writeConfigFile, type Worker } from "./scaling.ts";

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Samples a process's RSS every 100 ms from its spawn on; `stop()` returns the peak. */
function rssSampler(): { onSpawn(pid: number): void; stop(): number } {
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  const sample = (pid: number) => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // not started or already gone
    }
  };
  let pid = 0;
  return {
    onSpawn(p) {
      pid = p;
      timer = setInterval(() => sample(pid), 100);
    },
    stop() {
      clearInterval(timer);
      sample(pid);
      return peak;
    },
  };
}

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * RSS of one `jetbus actor` process (no-op handler, concurrency 16, max_ack_pending 1000): idle,
 * then the peak while draining a small and a large pre-filled backlog. Bounded memory means the
 * two peaks match. The raw client (one process, consume() + ack) drains the same backlogs.
 * Arg: large backlog size (default 200000; the small one is a tenth).
 */
const scenario: Scenario = {
  name: "memory",
  description: "RSS of one actor process idle and while draining a pre-filled backlog (small vs large) vs a raw consume() process",
  async run(args) {
    const large = Number(args[0] ?? 200_000);
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

      // rate includes the process start-up (about 2-3 s of tsx loading), equally for both
      const drainPeak = async (start: (onSpawn: (pid: number) => void) => Promise<Worker>, subject: string, stream: string, durable: string, n: number, tag: string) => {
        await fill(nc, subject, n, tag);
        const before = await backlogOf(jsm, stream, durable);
        if (before < n) throw new Error(`backlog not in place: ${before} of ${n} messages for ${durable}`);
        const sampler = rssSampler();
        const t0 = performance.now();
        const w = await start(sampler.onSpawn);
        await drained(jsm, stream, durable);
        const rate = n / ((performance.now() - t0) / 1000);
        const peak = sampler.stop();
        await stopAll([w]);
        return { peak, rate };
      };

      const idleActor = await spawnActorProcess(nc, server.url, file, "mem");
      await settle(3000);
      const actorIdle = rssMiB(idleActor.pid);
      await stopAll([idleActor]);
      const idleRaw = await spawnRawWorker(server.url, "rawmem", 0);
      await settle(3000);
      const rawIdle = rssMiB(idleRaw.pid);
      await stopAll([idleRaw]);

      const actorSmall = await drainPeak((on) => spawnActorProcess(nc, server.url, file, "mem", on), "actors.mem.0", Streams.Inbox, "mem", small, "s");
      const actorLarge = await drainPeak((on) => spawnActorProcess(nc, server.url, file, "mem", on), "actors.mem.0", Streams.Inbox, "mem", large, "l");
      const rawSmall = await drainPeak((on) => spawnRawWorker(server.url, "rawmem", 0, on), "benchraw.rawmem", RAW_STREAM, "rawmem", small, "rs");
      const rawLarge = await drainPeak((on) => spawnRawWorker(server.url, "rawmem", 0, on), "benchraw.rawmem", RAW_STREAM, "rawmem", large, "rl");
      process.stderr.write(`  drain rates: jetbus ${actorSmall.rate.toFixed(0)}/${actorLarge.rate.toFixed(0)} ev/s, raw ${rawSmall.rate.toFixed(0)}/${rawLarge.rate.toFixed(0)} ev/s (small/large)\n`);
      await nc.close();
      return [
        { metric: "RSS idle", unit: "MiB", jetbus: actorIdle, raw: rawIdle, higherIsBetter: false },
        { metric: `peak RSS draining ${small} events`, unit: "MiB", jetbus: actorSmall.peak, raw: rawSmall.peak, higherIsBetter: false },
        { metric: `peak RSS draining ${large} events`, unit: "MiB", jetbus: actorLarge.peak, raw: rawLarge.peak, higherIsBetter: false },
        { metric: `growth ${small} -> ${large} backlog`, unit: "MiB", jetbus: actorLarge.peak - actorSmall.peak, raw: rawLarge.peak - rawSmall.peak, higherIsBetter: false, target: "jetbus ~0 (bounded by concurrency)" },
      ] satisfies Comparison[];
    } finally {
      await server.stop();
    }
  },
};
export default scenario;
