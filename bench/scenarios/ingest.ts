import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { BulkPublisher, EventBus, ensureEventStream } from "../../runtime/store/mod.ts";
import type { Comparison, Scenario } from "../harness.ts";

const WINDOW = 1000;
/** 256 bytes of JSON data per event, like a small business event. */
const data = { user_id: "user-000001", username: "john_doe", email: "john@example.com", note: "x".repeat(256 - 75) };
const dataBytes = new TextEncoder().encode(JSON.stringify(data));

/** Events per second of `send` over `n` messages. */
async function rate(n: number, send: (count: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  await send(n);
  return n / ((performance.now() - start) / 1000);
}

/** The stock client: js.publish with a Nats-Msg-Id, awaited in windows of 1000. */
async function stock(nc: NatsConnection, prefix: string, n: number): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < n; i += WINDOW) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + WINDOW); j++) batch.push(js.publish("events.Bench", dataBytes, { msgID: `${prefix}-${j}` }));
    await Promise.all(batch);
  }
}

const scenario: Scenario = {
  name: "ingest",
  description: "events/s: EventBus.publish and the bulk path vs stock js.publish() windows of 1000, 256-byte data, file storage",
  async run(args) {
    const n = Number(args[0] ?? 60_000);
    const server = await NatsServer.start();
    const nc = await connectNats({ servers: server.url, name: "bench-ingest" });
    try {
      await waitForJetStream(nc);
      await ensureEventStream(await jetstreamManager(nc), configFrom({ store: { duplicate_window: "30s" } }).store);
      const bus = new EventBus(nc, { window: 2048 });
      const bulk = new BulkPublisher(nc, { window: 2048 });
      // warm-up of every path (JIT, server-side subject state)
      await stock(nc, "warm", 5000);
      await Promise.all(Array.from({ length: 5000 }, () => bus.publish("Bench", data)));

      let round = 0;
      const runs = { stock: [] as number[], bus: [] as number[], bulk: [] as number[], many: [] as number[] };
      // interleaved rounds, so a noisy neighbour hurts every path alike
      for (let r = 0; r < 2; r++) {
        round++;
        runs.stock.push(await rate(n, (c) => stock(nc, `s${round}`, c)));
        runs.bus.push(
          await rate(n, async (c) => {
            for (let i = 0; i < c; i += WINDOW)
              await Promise.all(Array.from({ length: Math.min(WINDOW, c - i) }, () => bus.publish("Bench", data)));
          }),
        );
        runs.bulk.push(
          await rate(n, async (c) => {
            const pending: Promise<unknown>[] = new Array(c);
            for (let i = 0; i < c; i++) {
              const h = headers();
              h.set("Nats-Msg-Id", `b${round}-${i}`);
              pending[i] = bulk.publish({ subject: "events.Bench", data: dataBytes, headers: h });
            }
            await Promise.all(pending);
          }),
        );
        runs.many.push(
          await rate(n, async (c) => {
            const results = await bus.publishMany(Array.from({ length: c }, () => ({ type: "Bench", data })));
            if (results.some((x) => x.status === "rejected")) throw new Error("a bulk event was refused");
          }),
        );
      }
      await bus.close();
      await bulk.close();
      const stored = (await (await jetstreamManager(nc)).streams.info("EVENTS")).state.messages;
      process.stderr.write(
        `stored ${stored} events; per-round events/s: ${JSON.stringify(runs, (_, v) => (typeof v === "number" ? Math.round(v) : v))}\n`,
      );
      const best = (xs: number[]) => Math.max(...xs);
      const raw = best(runs.stock);
      const rows: Comparison[] = [
        { metric: "EventBus.publish, windows of 1000 (CloudEvent)", unit: "ev/s", jetbus: best(runs.bus), raw, higherIsBetter: true },
        {
          metric: "EventBus.publishMany (CloudEvent, bulk path)",
          unit: "ev/s",
          jetbus: best(runs.many),
          raw,
          higherIsBetter: true,
          target: ">= 2.5x",
        },
        {
          metric: "BulkPublisher, same bytes + Nats-Msg-Id",
          unit: "msg/s",
          jetbus: best(runs.bulk),
          raw,
          higherIsBetter: true,
          target: ">= 2.5x",
        },
      ];
      return rows;
    } finally {
      await nc.close().catch(() => undefined);
      await server.stop();
    }
  },
};
export default scenario;
