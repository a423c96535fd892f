// The chaos run's publisher: events `ChaosEvent` with stable ids, over KEYS keys, RATE events/s in
// all. Each key is published in sequence (the next event of a key only after the previous one's
// ack), so a key's ack order is its store order. A failed or timed-out publish is retried with the
// same id until acked (the store's duplicate window makes that safe). Every id is written to
// sent.jsonl before its first attempt and to acked.jsonl with its ack (append-only, one JSON line
// each). SIGTERM: no new events; retries in flight get up to DRAIN_MS, then exit 0.
// Usage: publisher.ts DIR SERVERS RATE KEYS SEED
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { connectNats } from "../runtime/nats/connect.ts";
import { EventBus } from "../runtime/store/bus.ts";
import { ACTORS, EVENT_TYPE } from "./workload-config.ts";

const [dir, servers, rateArg, keysArg, seed] = process.argv.slice(2);
if (!dir || !servers || !rateArg || !keysArg || !seed) {
  process.stderr.write("usage: publisher.ts DIR SERVERS RATE KEYS SEED\n");
  process.exit(2);
}
const rate = Number(rateArg);
const keys = Number(keysArg);
/** How long retries in flight may go on after SIGTERM: longer than any fault (they are healed first). */
const DRAIN_MS = 60_000;
/** Between retries of one event: enough for a leader election to progress, short enough to measure the gap. */
const RETRY_DELAY_MS = 200;

const nc = await connectNats({ servers, name: "chaos-publisher" });
// a publish is resent by the bulk path every 2 s under the same id; after 3 sends it rejects and the loop below retries
const bus = new EventBus(nc, { source: "chaos", ackTimeoutMs: 2000, maxAttempts: 3 });
let stopping = false;
let drainDeadline = Infinity;
let next = 0;
const now = () => performance.timeOrigin + performance.now();
const line = (file: string, v: unknown) => appendFileSync(join(dir, file), JSON.stringify(v) + "\n");

async function publishUntilAcked(id: string, key: string, n: number): Promise<void> {
  line("sent.jsonl", { id, key, at: now() });
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await bus.publish(EVENT_TYPE, { n, key }, { id, correlationId: key });
      line("acked.jsonl", { id, key, to: ACTORS, at: now(), seq: r.seq, duplicate: r.duplicate, attempts: attempt });
      return;
    } catch (err) {
      if (Date.now() > drainDeadline) {
        process.stderr.write(`gave up on ${id} after ${attempt} attempts: ${(err as Error).message}\n`);
        return;
      }
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
    }
  }
}

/** One key's loop: its events one after another, paced so all keys together make `rate` per second. */
async function keyLoop(k: number): Promise<void> {
  const key = `k${k}`;
  const interval = (keys * 1000) / rate;
  let due = Date.now() + (k * interval) / keys;
  while (!stopping) {
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (stopping) break;
    const n = next++;
    await publishUntilAcked(`chaos-${seed}-${n}`, key, n);
    due = Math.max(due + interval, Date.now() - interval); // behind after a fault: catch up gently, no burst
  }
}

process.on("SIGTERM", () => {
  stopping = true;
  drainDeadline = Date.now() + DRAIN_MS;
});
await Promise.all(Array.from({ length: keys }, (_, k) => keyLoop(k)));
await nc.drain().catch(() => undefined);
process.stdout.write(`published ${next}\n`);
process.exit(0);
