import { jetstream, jetstreamManager, AckPolicy, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { startRouter } from "../../runtime/routing/router.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Streams } from "../../runtime/topology.ts";
import type { Scenario } from "../harness.ts";

const TYPES = ["User.Created", "Order.Placed", "Payment.Received", "Shipment.Sent"] as const;
const COUNTRIES = ["FR", "DE", "US", "JP"];

/**
 * 20 rules in all-matches mode (every rule is evaluated for every event): 16 that never match
 * but do real work (type patterns that hit, data predicates that then fail), and 4 that route
 * each event to exactly one actor, so the router and the raw pipeline publish one copy per event.
 */
export const TWENTY_RULES = [
  { match: { type: "Invoice*" }, to: ["sink-0"] },
  { match: { type: "Refund.>" }, to: ["sink-1"] },
  { match: { type: "User*", data: { regex: { email: "@corp\\.example$" } } }, to: ["sink-2"] },
  { match: { type: "Order.*", data: { gt: { amount: 5000 } } }, to: ["sink-3"] },
  { match: { type: "Payment.>", data: { in: { country: ["BR", "IN"] } } }, to: ["sink-0"] },
  { match: { type: "Shipment.Sent", data: { eq: { "address.country": "NZ" } } }, to: ["sink-1"] },
  { match: { source: "legacy*" }, to: ["sink-2"] },
  { match: { type: "*.Created", data: { all: [{ exists: ["vip"] }, { eq: { vip: true } }] } }, to: ["sink-3"] },
  { match: { type: "Order.>", data: { any: [{ prefix: { email: "admin@" } }, { suffix: { email: ".invalid" } }] } }, to: ["sink-0"] },
  { match: { type: "Payment*", data: { lt: { amount: 0 } } }, to: ["sink-1"] },
  { match: { type: "User.Deleted" }, to: ["sink-2"] },
  { match: { type: "Order.Cancelled" }, to: ["sink-3"] },
  { match: { type: "Shipment.*", data: { not: { exists: ["amount"] } } }, to: ["sink-0"] },
  { match: { type: "User.>", source: "crm", data: { eq: { country: "FR" } } }, to: ["sink-1"] },
  { match: { data: { gte: { amount: 1_000_000 } } }, to: ["sink-2"] },
  { match: { type: "Payment.Received", data: { regex: { email: "^root@" } } }, to: ["sink-3"] },
  { match: { type: "User.Created" }, to: ["sink-0"] },
  { match: { type: "Order*" }, to: ["sink-1"] },
  { match: { type: "Payment.>", data: { exists: ["amount"] } }, to: ["sink-2"] },
  { match: { type: "Shipment.*", data: { lte: { amount: 100_000 } } }, to: ["sink-3"] },
];

const ACTORS = ["sink-0", "sink-1", "sink-2", "sink-3"].map((name) => ({ name }));

function eventsFor(n: number) {
  return Array.from({ length: n }, (_, i) =>
    createEvent({
      type: TYPES[i % 4]!,
      source: "bench",
      data: { amount: i % 2000, country: COUNTRIES[(i >> 2) % 4], email: `user${i}@example.com`, address: { country: COUNTRIES[i % 4] } },
    }),
  );
}

async function fill(nc: NatsConnection, jsm: JetStreamManager, n: number): Promise<void> {
  await jsm.streams.add({ name: Streams.Events, subjects: ["events.>"], storage: StorageType.Memory });
  const pub = new BulkPublisher(nc);
  await Promise.all(eventsFor(n).map((e) => pub.publish(encodeEvent(e))));
  await pub.close();
}

/** Polls a stream's message count; returns copies/s between the first copy seen and the last. */
async function rateUntil(jsm: JetStreamManager, stream: string, n: number): Promise<number> {
  let first = 0;
  for (;;) {
    const count = (await jsm.streams.info(stream).catch(() => null))?.state.messages ?? 0;
    const now = performance.now();
    if (count > 0 && first === 0) first = now;
    if (count >= n) return (n / (now - first)) * 1000;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function runRaw(url: string, n: number, inFlight: number): Promise<number> {
  const server = await NatsServer.start({ serverName: "bench-raw" });
  const nc = await connectNats({ servers: server.url ?? url });
  try {
    const jsm = await jetstreamManager(nc);
    await fill(nc, jsm, n);
    await jsm.streams.add({ name: "RAW_OUT", subjects: ["out.>"], retention: RetentionPolicy.Workqueue, storage: StorageType.Memory });
    await jsm.consumers.add(Streams.Events, { durable_name: "raw", ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
    const js = jetstream(nc);
    const messages = await (await js.consumers.get(Streams.Events, "raw")).consume({ max_messages: inFlight });
    let pending = 0;
    let wake: (() => void) | undefined;
    const loop = (async () => {
      for await (const m of messages) {
        while (pending >= inFlight) await new Promise<void>((r) => (wake = r));
        pending++;
        const target = m.subject.endsWith("Created") ? 0 : m.subject.includes("Order") ? 1 : m.subject.includes("Payment") ? 2 : 3;
        void js
          .publish(`out.sink-${target}.0`, m.data, { headers: m.headers, msgID: `${m.headers?.get("Nats-Msg-Id")}:sink-${target}` })
          .then(() => {
            m.ack();
            pending--;
            wake?.();
          });
      }
    })();
    const rate = await rateUntil(jsm, "RAW_OUT", n);
    messages.stop();
    await loop;
    return rate;
  } finally {
    await nc.close();
    await server.stop();
  }
}

async function runRouter(n: number, inFlight: number): Promise<number> {
  const server = await NatsServer.start({ serverName: "bench-router" });
  const nc = await connectNats({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    await fill(nc, jsm, n);
    const config = configFrom({ store: { storage: "memory" }, actors: ACTORS, routes: { mode: "all-matches", rules: TWENTY_RULES } });
    const router = await startRouter(
      { nc, config, logger: createLogger({ level: "warn", pretty: false }), metrics: new Metrics() },
      { maxInFlight: inFlight },
    );
    const rate = await rateUntil(jsm, Streams.Inbox, n);
    await router.stop();
    return rate;
  } finally {
    await nc.close();
    await server.stop();
  }
}

const scenario: Scenario = {
  name: "router",
  description: "router with 20 rules (type patterns + data predicates) vs raw consume + republish; copies/s, same run",
  async run(args) {
    const n = Number(args[0] ?? 30_000);
    const inFlight = Number(args[1] ?? 512);
    const rounds = Number(args[2] ?? 2);
    const raw: number[] = [],
      jet: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // alternate so neither side always runs on a warmer machine
      raw.push(await runRaw("", n, inFlight));
      jet.push(await runRouter(n, inFlight));
      process.stderr.write(`round ${i + 1}: raw ${raw.at(-1)!.toFixed(0)}/s, router ${jet.at(-1)!.toFixed(0)}/s\n`);
    }
    const best = (xs: number[]) => Math.max(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return [
      {
        metric: `route ${n} events, 20 rules (median of ${rounds})`,
        unit: "msg/s",
        jetbus: median(jet),
        raw: median(raw),
        higherIsBetter: true,
        target: ">= 0.7x",
      },
      {
        metric: `route ${n} events, 20 rules (best of ${rounds})`,
        unit: "msg/s",
        jetbus: best(jet),
        raw: best(raw),
        higherIsBetter: true,
        target: ">= 0.7x",
      },
    ];
  },
};
export default scenario;
