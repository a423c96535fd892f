/**
 * The peer's consumer of the `peers` bench, as its own process: a moleculer 0.14 broker (no
 * transporter) with `@moleculer/channels` 0.1.8 on its NATS JetStream adapter (the legacy `nats` v2
 * client), one service with one channel handler: a no-op that counts the event (by its stream
 * position, for the exactly-once check). `maxInFlight: 64` (its default is 1); retries at their
 * default (3), no dead letters (off by default), no metrics or tracing (off by default).
 * The adapter names the stream after the channel (dots become underscores) and the durable after
 * the group; a group created the first time starts at new messages, so the bench starts this
 * process once before it publishes a backlog. With LATENCY_OUT set the handler first records
 * publish -> handler latency from the payload's `t`.
 *
 * Usage: tsx bench/processes/peer-moleculer.ts NATS_URL CHANNEL GROUP N COUNT_OUT
 *        (prints "consumer running" once the broker has started and subscribed)
 */
import { createRequire } from "node:module";
import moleculer from "moleculer";
import { eventCounter } from "../event-count.ts";
import { latencyRecorder } from "../latency-record.ts";

// the package ships its types outside the path its package.json names: typed here by what is used
const { Middleware: Channels } = createRequire(import.meta.url)("@moleculer/channels") as {
  Middleware: (opts: unknown) => moleculer.Middleware;
};

export const MAX_IN_FLIGHT = 64;

const [url, channel, group, n, countOut] = process.argv.slice(2);
if (!url || !channel || !group || !n || !countOut) throw new Error("usage: peer-moleculer.ts NATS_URL CHANNEL GROUP N COUNT_OUT");
const counter = eventCounter(Number(n), countOut);
const latency = process.env.LATENCY_OUT ? latencyRecorder(process.env.LATENCY_OUT) : undefined;

const broker = new moleculer.ServiceBroker({
  nodeID: `peers-${process.pid}`,
  transporter: null,
  logger: false,
  middlewares: [
    Channels({
      adapter: {
        type: "NATS",
        options: { nats: { url: url.split(",")[0], connectionOptions: { name: "peers-consumer" } }, maxInFlight: MAX_IN_FLIGHT },
      },
    }),
  ],
});
broker.createService({
  name: "peers",
  channels: {
    [channel]: {
      group,
      maxInFlight: MAX_IN_FLIGHT,
      handler(payload: { t: number }, raw: { seq: number }) {
        latency?.record(payload.t);
        counter.record(raw.seq - 1);
      },
    },
  },
} as moleculer.ServiceSchema);
await broker.start();
process.once("SIGTERM", () => void broker.stop().then(() => process.exit(0)));
process.stdout.write("consumer running\n");
