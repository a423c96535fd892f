/**
 * The raw client's consumer of the `peers` bench, as its own process: `@nats-io/jetstream`
 * consume() on a durable with the client's default pull options, a no-op handler (the event is
 * counted for the exactly-once check, by its stream position) and an ack. Two forms, because they
 * differ twofold in cost: `callback` (consume({ callback })) and `iterate` (`for await` over consume()).
 * With LATENCY_OUT set, the handler first records publish -> handler latency from the body's `t`
 * (see bench/latency-record.ts), which parses each body as JSON.
 *
 * Usage: tsx bench/processes/peer-raw.ts NATS_URL STREAM DURABLE callback|iterate N COUNT_OUT
 *        (prints "consumer running" once consuming; COUNT_OUT: see bench/event-count.ts)
 */
import { connect } from "@nats-io/transport-node";
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { eventCounter } from "../event-count.ts";
import { latencyRecorder } from "../latency-record.ts";

const [url, stream, durable, form, n, countOut] = process.argv.slice(2);
if (!url || !stream || !durable || (form !== "callback" && form !== "iterate") || !n || !countOut)
  throw new Error("usage: peer-raw.ts NATS_URL STREAM DURABLE callback|iterate N COUNT_OUT");
const counter = eventCounter(Number(n), countOut);
const latency = process.env.LATENCY_OUT ? latencyRecorder(process.env.LATENCY_OUT) : undefined;
const decoder = new TextDecoder();
const handle = latency
  ? (m: JsMsg) => {
      latency.record((JSON.parse(decoder.decode(m.data)) as { t: number }).t);
      counter.record(m.seq - 1);
      m.ack();
    }
  : (m: JsMsg) => {
      counter.record(m.seq - 1);
      m.ack();
    };

const nc = await connect({ servers: url.split(","), name: "peers-consumer" });
const consumer = await jetstream(nc).consumers.get(stream, durable);
if (form === "callback") {
  const messages = await consumer.consume({ callback: handle });
  process.once("SIGTERM", () => void messages.close().then(() => nc.drain().then(() => process.exit(0))));
  process.stdout.write("consumer running\n");
} else {
  const messages = await consumer.consume();
  process.once("SIGTERM", () => void messages.close());
  process.stdout.write("consumer running\n");
  for await (const m of messages) handle(m);
  await nc.drain();
  process.exit(0);
}
