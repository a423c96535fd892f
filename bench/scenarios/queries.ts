import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { BulkPublisher, EventStore, Indexer, ensureStore } from "../../runtime/store/mod.ts";
import { percentile, type Comparison, type Scenario } from "../harness.ts";

const TYPES = ["UserCreated", "UserUpdated", "UserDeleted"] as const;
const SAMPLES = 300;
const data = { user_id: "user-000001", username: "john_doe", email: "john@example.com", note: "x".repeat(256 - 75) };

type Phase = { first: number; count: number; flows: number; tag: string };

/**
 * Events `first..first+count-1`; event i belongs to flow `<tag>-<i mod flows>`, so the 3 events
 * of a flow lie far apart in the stream (a scan would have to cross most of the store).
 */
async function fill(nc: NatsConnection, p: Phase): Promise<number> {
  const bulk = new BulkPublisher(nc, { window: 4096, ackTimeoutMs: 20_000 });
  const start = performance.now();
  const chunk = 10_000;
  for (let base = 0; base < p.count; base += chunk) {
    const pending: Promise<unknown>[] = [];
    for (let k = base; k < Math.min(p.count, base + chunk); k++) {
      const i = p.first + k;
      const e = createEvent({ type: TYPES[i % 3]!, data, id: `ev-${i}`, correlationid: `${p.tag}-${k % p.flows}`, source: "bench" });
      pending.push(bulk.publish(encodeEvent(e)));
    }
    await Promise.all(pending);
  }
  await bulk.close();
  return p.count / ((performance.now() - start) / 1000);
}

async function median(fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(i); // warm-up
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  return percentile(
    times.sort((a, b) => a - b),
    50,
  );
}

type Figures = { byId: number; byIdRaw: number; byCorr: number; byCorrRaw: number; page: number; pageRaw: number };

/** Seqs of flow `f` of a phase (event seq = index + 1). */
function flowSeqs(p: Phase, f: number): number[] {
  const out: number[] = [];
  for (let k = f; k < p.count; k += p.flows) out.push(p.first + k + 1);
  return out;
}

async function measure(nc: NatsConnection, jsm: JetStreamManager, store: EventStore, p: Phase): Promise<Figures> {
  const pick = (i: number) => (i * 7919) % p.count; // spread over the phase, deterministic
  const js = jetstream(nc);
  const byId = await median(async (i) => {
    const k = pick(i);
    const e = await store.getById(`ev-${p.first + k}`);
    if (e.seq !== p.first + k + 1) throw new Error(`wrong event for ev-${p.first + k}`);
  });
  const byIdRaw = await median(async (i) => {
    const m = await jsm.direct.getMessage("EVENTS", { seq: p.first + pick(i) + 1 });
    if (!m) throw new Error("missing");
  });
  const byCorr = await median(async (i) => {
    const f = pick(i) % p.flows;
    const events = await store.getByCorrelationId(`${p.tag}-${f}`);
    if (events.length !== 3) throw new Error(`flow ${p.tag}-${f} has ${events.length} events`);
  });
  const byCorrRaw = await median(async (i) => {
    const seqs = flowSeqs(p, pick(i) % p.flows);
    const ms = await Promise.all(seqs.map((seq) => jsm.direct.getMessage("EVENTS", { seq })));
    if (ms.some((m) => !m)) throw new Error("missing");
  });
  const page = await median(async (i) => {
    const events = await store.getByType(TYPES[i % 3]!, { limit: 100 });
    if (events.length !== 100) throw new Error(`page of ${events.length}`);
  });
  const pageRaw = await median(async (i) => {
    const c = await js.consumers.get("EVENTS", { filter_subjects: `events.${TYPES[i % 3]}` });
    const iter = await c.fetch({ max_messages: 100, expires: 5000 });
    let n = 0;
    for await (const m of iter) {
      JSON.parse(new TextDecoder().decode(m.data));
      n++;
    }
    await c.delete().catch(() => undefined);
    if (n !== 100) throw new Error(`raw page of ${n}`);
  });
  return { byId, byIdRaw, byCorr, byCorrRaw, page, pageRaw };
}

const scenario: Scenario = {
  name: "queries",
  description:
    "median latency of getById, getByCorrelationId (3 events) and a 100-event getByType page with 10k and with N stored (default 1M; `npm run bench -- queries 200000` scales down)",
  async run(args) {
    const large = Number(args[0] ?? 1_000_000);
    const small = 10_000;
    if (!(large > small)) throw new Error(`the large size must be above ${small}`);
    const server = await NatsServer.start();
    const nc = await connectNats({ servers: server.url, name: "bench-queries" });
    const settings = configFrom({ store: { storage: "memory", duplicate_window: "10s" } }).store;
    const log = (line: string) => process.stderr.write(line + "\n");
    try {
      await waitForJetStream(nc);
      const jsm = await jetstreamManager(nc);
      await ensureStore(jsm, settings);
      const store = new EventStore(nc);
      const indexer = new Indexer(nc, settings);

      const flows1 = Math.floor(small / 3);
      const p1: Phase = { first: 0, count: flows1 * 3, flows: flows1, tag: "a" };
      let rate = await fill(nc, p1);
      let t = performance.now();
      await indexer.catchUp({ timeoutMs: 30 * 60_000 });
      log(`filled ${p1.count} events at ${Math.round(rate)} ev/s, indexed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      const at10k = await measure(nc, jsm, store, p1);
      log(`at ${p1.count}: ${JSON.stringify(at10k, (_, v) => (typeof v === "number" ? Number(v.toFixed(3)) : v))}`);

      const flows2 = Math.floor((large - p1.count) / 3);
      const p2: Phase = { first: p1.count, count: flows2 * 3, flows: flows2, tag: "b" };
      rate = await fill(nc, p2);
      log(`filled ${p2.count} more events at ${Math.round(rate)} ev/s`);
      t = performance.now();
      await indexer.catchUp({
        timeoutMs: 60 * 60_000,
        onProgress: (s) => {
          if (s.indexedThrough % 100_000 < 1024) process.stderr.write(`\r  indexed through ${s.indexedThrough}`);
        },
      });
      const total = p1.count + p2.count;
      log(
        `\nindexed ${p2.count} events at ${Math.round(p2.count / ((performance.now() - t) / 1000))} ev/s; store holds ${(await jsm.streams.info("EVENTS")).state.messages}`,
      );
      // queries on the new, spread-out flows and on the old ones
      const atLarge = await measure(nc, jsm, store, p2);
      const oldAtLarge = await measure(nc, jsm, store, p1);
      log(`at ${total} (new flows): ${JSON.stringify(atLarge, (_, v) => (typeof v === "number" ? Number(v.toFixed(3)) : v))}`);
      log(`at ${total} (first 10k flows): ${JSON.stringify(oldAtLarge, (_, v) => (typeof v === "number" ? Number(v.toFixed(3)) : v))}`);

      const k = `${Math.round(total / 1000)}k`;
      const rows: Comparison[] = [];
      const add = (name: string, j: keyof Figures, r: keyof Figures) => {
        rows.push({ metric: `${name} @10k`, unit: "ms", jetbus: at10k[j], raw: at10k[r], higherIsBetter: false });
        rows.push({ metric: `${name} @${k}`, unit: "ms", jetbus: atLarge[j], raw: atLarge[r], higherIsBetter: false });
        rows.push({
          metric: `${name} growth 10k->${k} (x)`,
          unit: "x",
          jetbus: Math.max(atLarge[j], oldAtLarge[j]) / at10k[j],
          raw: Math.max(atLarge[r], oldAtLarge[r]) / at10k[r],
          higherIsBetter: false,
          target: "jetbus <= 1.5",
        });
      };
      add("getById", "byId", "byIdRaw");
      add("getByCorrelationId (3 events)", "byCorr", "byCorrRaw");
      add("getByType page of 100", "page", "pageRaw");
      return rows;
    } finally {
      await nc.close().catch(() => undefined);
      await server.stop();
    }
  },
};
export default scenario;
