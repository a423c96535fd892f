/**
 * Moleculer's side of the `notify` bench: moleculer 0.14 with its NATS transporter (the legacy
 * `nats` v2 client), balanced events (the default: each event goes to one instance of every
 * service listening, here one service per broker process).
 *   sub: a broker with service NAME handling `bench.tick`, counting `ctx.params.i`; prints "consumer running".
 *   pub: a broker without services; once it has discovered the three sinks it prints "publisher ready",
 *        then on SIGUSR2 emits N events (awaiting each 1000), prints "published".
 * Usage: tsx bench/processes/notify-moleculer.ts NATS_URL sub NAME N COUNT_OUT | NATS_URL pub N
 */
import moleculer from "moleculer";
import { eventCounter } from "../event-count.ts";
import { SINKS, tickData } from "../notify-sides.ts";

const [url, role, ...rest] = process.argv.slice(2);
const broker = new moleculer.ServiceBroker({
  nodeID: `notify-${role}-${rest[0] ?? ""}-${process.pid}`,
  transporter: { type: "NATS", options: { url: url!.split(",")[0] } },
  logger: false,
});
process.once("SIGTERM", () => void broker.stop().then(() => process.exit(0)));

if (role === "sub") {
  const [name, n, countOut] = rest;
  const counter = eventCounter(Number(n), countOut!);
  broker.createService({
    name: name!,
    events: {
      "bench.tick"(ctx: moleculer.Context<{ i: number }>) {
        counter.record(ctx.params.i);
      },
    },
  });
  await broker.start();
  process.stdout.write("consumer running\n");
} else {
  const n = Number(rest[0]);
  await broker.start();
  await broker.waitForServices([...SINKS]);
  process.once("SIGUSR2", () => {
    void (async () => {
      let batch: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        batch.push(broker.emit("bench.tick", tickData(i)));
        if (batch.length === 1000) {
          await Promise.all(batch);
          batch = [];
        }
      }
      await Promise.all(batch);
      process.stdout.write("published\n");
    })();
  });
  process.stdout.write("publisher ready\n");
}
