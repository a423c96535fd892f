import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { AggregateStore } from "../../runtime/aggregate/aggregate-store.ts";
import { defineAggregate } from "../../runtime/aggregate/define.ts";
import { publishAtomicPair } from "../../runtime/actor/state/atomic-pair.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { entityFilter, entitySubject } from "../../runtime/events/subjects.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { ensureStore } from "../../runtime/store/stream.ts";
import { Streams } from "../../runtime/topology.ts";
import { percentile, type Comparison, type Scenario } from "../harness.ts";

/** The smallest aggregate: a counter whose command always yields one event. */
const counter = defineAggregate<{ n: number }, "inc", { type: "Incremented"; data: { by: number } }>({
  name: "Counter",
  initial: () => ({ n: 0 }),
  evolve: (s, e) => ({ n: s.n + e.data.by }),
  decide: () => ({ type: "Incremented", data: { by: 1 } }),
});

const enc = new TextEncoder();
const dec = new TextDecoder();
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** Client CPU (user + system) in microseconds spent by `fn`, and its wall time in ms. */
async function timed(fn: () => Promise<void>): Promise<{ ms: number; cpuUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuUs: c.user + c.system };
}

/**
 * The raw client's cheapest correct writer: per entity, one guarded publish per command
 * (Nats-Expected-Last-Subject-Sequence over the entity's subjects) expecting the sequence its
 * own last publish got: no read, no decode, no decide. A floor for what execute costs.
 */
async function rawAppend(nc: NatsConnection, entity: string, last: Map<string, number>): Promise<void> {
  const h = headers();
  h.set("Nats-Expected-Last-Subject-Sequence", String(last.get(entity) ?? 0));
  h.set("Nats-Expected-Last-Subject-Sequence-Subject", entityFilter("RawCounter", entity));
  const reply = await nc.request(entitySubject("RawCounter", entity, "Incremented"), enc.encode('{"by":1}'), {
    headers: h,
    timeout: 10_000,
  });
  const ack = JSON.parse(dec.decode(reply.data)) as { seq?: number; error?: { description: string } };
  if (ack.error || !ack.seq) throw new Error(`raw append refused: ${ack.error?.description}`);
  last.set(entity, ack.seq);
}

/** `n` commands spread over `entities` entities, `callers` in flight at once (each on the next entity in turn). */
async function drive(n: number, entities: number, callers: number, run: (entity: string) => Promise<void>): Promise<void> {
  let next = 0;
  // one entity at a time per caller key, as execute does: the raw writer is not safe with two writers on one entity
  const busy = new Map<string, Promise<void>>();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < n; i = next++) {
        const entity = `e${i % entities}`;
        const prev = busy.get(entity) ?? Promise.resolve();
        const mine = prev.then(() => run(entity));
        busy.set(
          entity,
          mine.catch(() => undefined),
        );
        await mine;
      }
    }),
  );
}

async function fill(nc: NatsConnection, aggregate: string, entity: string, n: number, noise: number): Promise<void> {
  // the entity's events interleaved with other entities' events, as in a live store
  const js = (await import("@nats-io/jetstream")).jetstream(nc);
  const pending: Promise<unknown>[] = [];
  const body = enc.encode(JSON.stringify({ by: 1, note: "x".repeat(100) }));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < noise; k++)
      pending.push(js.publish(entitySubject(aggregate, `noise-${(i * noise + k) % 500}`, "Incremented"), body));
    // ce-type makes it a binary-mode event with its own id; the type matches the subject
    const h = headers();
    h.set("ce-type", "Incremented");
    h.set("ce-id", `${entity}-${i}`);
    pending.push(js.publish(entitySubject(aggregate, entity, "Incremented"), body, { headers: h }));
    if (pending.length > 2000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

async function loadTime(nc: NatsConnection, jsm: JetStreamManager, rounds: number): Promise<Comparison[]> {
  const entity = "big";
  await fill(nc, "Counter", entity, 1000, 9);
  const store = new AggregateStore(nc, { cacheSize: 0 });
  const filter = entityFilter("Counter", entity);
  const raw = async () => {
    let n = 0;
    for await (const m of await jsm.direct.getBatch(Streams.Events, { seq: 1, batch: 1000, next_by_subj: filter }))
      n += (JSON.parse(dec.decode(m.data)) as { by: number }).by;
    if (n !== 1000) throw new Error(`raw read ${n} of 1000`);
  };
  const jb = async () => {
    const s = await store.load(counter, entity);
    if (s.state.n !== 1000) throw new Error(`load folded ${s.state.n} of 1000`);
  };
  for (let i = 0; i < 3; i++) {
    await raw();
    await jb();
  }
  const r: Array<{ ms: number; cpuUs: number }> = [];
  const j: Array<{ ms: number; cpuUs: number }> = [];
  for (let i = 0; i < rounds; i++) {
    r.push(await timed(raw));
    j.push(await timed(jb));
  }
  return [
    {
      metric: `load an entity of 1,000 events (in a 10k store), median of ${rounds}`,
      unit: "ms",
      jetbus: median(j.map((x) => x.ms)),
      raw: median(r.map((x) => x.ms)),
      higherIsBetter: false,
      target: "<= 3x",
    },
    {
      metric: "  client CPU per load",
      unit: "us",
      jetbus: median(j.map((x) => x.cpuUs)),
      raw: median(r.map((x) => x.cpuUs)),
      higherIsBetter: false,
    },
  ];
}

async function throughput(nc: NatsConnection, n: number, entities: number, callers: number, rounds: number): Promise<Comparison[]> {
  const rawRates: number[] = [];
  const jbRates: number[] = [];
  const idRates: number[] = [];
  const rawCpu: number[] = [];
  const jbCpu: number[] = [];
  const idCpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const last = new Map<string, number>();
    const tag = `r${round}-${entities}`;
    const r = await timed(() => drive(n, entities, callers, (e) => rawAppend(nc, `${tag}-${e}`, last)));
    const store = new AggregateStore(nc);
    const j = await timed(() => drive(n, entities, callers, async (e) => void (await store.execute(counter, `${tag}-${e}`, "inc"))));
    // without the kept states every command loads its entity first (one batched direct get of all its events)
    const loading = new AggregateStore(nc, { cacheSize: 0 });
    let c = 0;
    const id = await timed(() =>
      drive(
        n,
        entities,
        callers,
        async (e) => void (await loading.execute(counter, `${tag}-load-${e}`, "inc", { commandId: `${tag}-${c++}` })),
      ),
    );
    rawRates.push(n / (r.ms / 1000));
    jbRates.push(n / (j.ms / 1000));
    idRates.push(n / (id.ms / 1000));
    rawCpu.push(r.cpuUs / n);
    jbCpu.push(j.cpuUs / n);
    idCpu.push(id.cpuUs / n);
  }
  const what = `${n} commands on ${entities} ${entities === 1 ? "entity" : "entities"}, ${callers} callers`;
  return [
    {
      metric: `execute vs raw guarded append: ${what}`,
      unit: "cmd/s",
      jetbus: median(jbRates),
      raw: median(rawRates),
      higherIsBetter: true,
    },
    { metric: "  client CPU per command", unit: "us", jetbus: median(jbCpu), raw: median(rawCpu), higherIsBetter: false },
    {
      metric: `  execute loading the entity each time (cacheSize 0)`,
      unit: "cmd/s",
      jetbus: median(idRates),
      raw: median(rawRates),
      higherIsBetter: true,
    },
    {
      metric: "  client CPU per command, loading each time",
      unit: "us",
      jetbus: median(idCpu),
      raw: median(rawCpu),
      higherIsBetter: false,
    },
  ];
}

/**
 * A decision of two events as execute stores it (two guarded publishes, the second expecting the
 * first) vs one atomic batch of two (nats-server 2.12+), 8 writers on 8 entities of one file
 * stream, with a plain publisher on the same stream alongside: its rate says what each costs the
 * rest of the store.
 */
async function decisionProbe(nc: NatsConnection, jsm: JetStreamManager, perWriter: number): Promise<Comparison[]> {
  const stream = "BENCH_DECISION_PROBE";
  await jsm.streams.add({ name: stream, subjects: ["probe.>"], storage: "file", allow_atomic: true } as never);
  try {
    const run = async (write: (w: number, last: number) => Promise<number>) => {
      let plain = 0;
      let stop = false;
      const alongside = (async () => {
        while (!stop) {
          await nc.request("probe.plain", enc.encode("{}"), { timeout: 10_000 });
          plain++;
        }
      })();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          let last = 0;
          for (let i = 0; i < perWriter; i++) last = await write(w, last);
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      stop = true;
      await alongside;
      return { decisions: (8 * perWriter) / secs, plain: plain / secs };
    };
    const guarded = async (subject: string, filter: string, expected: number) => {
      const h = headers();
      h.set("Nats-Expected-Last-Subject-Sequence", String(expected));
      h.set("Nats-Expected-Last-Subject-Sequence-Subject", filter);
      const reply = await nc.request(subject, enc.encode("{}"), { headers: h, timeout: 10_000 });
      return (JSON.parse(dec.decode(reply.data)) as { seq: number }).seq;
    };
    const chain = await run(async (w, last) => {
      const first = await guarded(`probe.chain.${w}.a`, `probe.chain.${w}.>`, last);
      return guarded(`probe.chain.${w}.b`, `probe.chain.${w}.>`, first);
    });
    const atomic = await run(async (w) => {
      await publishAtomicPair(
        nc,
        { subject: `probe.atomic.${w}.a`, data: enc.encode("{}") },
        { subject: `probe.atomic.${w}.b`, data: enc.encode("{}") },
      );
      return 0;
    });
    return [
      {
        metric: "decision of 2 events, 8 writers: guarded chain (jetbus) vs atomic batch (raw)",
        unit: "dec/s",
        jetbus: chain.decisions,
        raw: atomic.decisions,
        higherIsBetter: true,
      },
      {
        metric: "  plain publishes alongside on the same stream",
        unit: "msg/s",
        jetbus: chain.plain,
        raw: atomic.plain,
        higherIsBetter: true,
      },
    ];
  } finally {
    await jsm.streams.delete(stream);
  }
}

const scenario: Scenario = {
  name: "aggregate",
  description:
    "aggregate commands (execute: load or kept state, decide, guarded append) vs the raw client's guarded appends; an entity's load vs the raw batched read of its 1,000 messages; a 2-event decision stored as a guarded chain vs an atomic batch",
  async run(args) {
    const n = Number(args[0] ?? 2000);
    const rounds = Number(args[1] ?? 3);
    const server = await NatsServer.start();
    try {
      const nc = await connectNats({ servers: server.url, name: "bench-aggregate" });
      const jsm = await jetstreamManager(nc);
      await ensureStore(jsm, configFrom({}).store);
      await throughput(nc, 300, 4, 4, 1); // warm-up
      const rows = [
        ...(await throughput(nc, n, 1, 8, rounds)),
        ...(await throughput(nc, n, 50, 8, rounds)),
        ...(await loadTime(nc, jsm, Math.max(5, rounds * 3))),
        ...(await decisionProbe(nc, jsm, 50)),
      ];
      await nc.close();
      return rows;
    } finally {
      await server.stop();
    }
  },
};
export default scenario;
