/**
 * The raw client's sink of the `e2e-latency` bench, as its own process: consume() a durable,
 * record how long ago the publisher stamped each message (`t` in the JSON body) into OUT_FILE
 * as the first thing done with it, then ack.
 *
 * Usage: tsx bench/processes/latency-consumer.ts NATS_URL STREAM DURABLE OUT_FILE
 *        (prints "consumer running" when consuming)
 */
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { latencyRecorder } from "../latency-record.ts";

const [url, stream, durable, out] = process.argv.slice(2);
if (!url || !stream || !durable || !out) throw new Error("usage: latency-consumer.ts NATS_URL STREAM DURABLE OUT_FILE");
const recorder = latencyRecorder(out);
const nc = await connect({ servers: url.split(",") });
const messages = await (await jetstream(nc).consumers.get(stream, durable)).consume();
process.once("SIGTERM", () => messages.stop());
process.stdout.write("consumer running\n");
const decoder = new TextDecoder();
for await (const m of messages) {
  recorder.record((JSON.parse(decoder.decode(m.data)) as { t: number }).t);
  m.ack();
}
recorder.flush();
await nc.drain();
