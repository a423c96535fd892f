/**
 * The raw client's version of a routing hop, as its own process: consume `RAW` with a durable,
 * republish each message to `relayed.<subject>` with the stock js.publish(), ack the original
 * once the republish is acked. The latency bench compares the router's hop with this one.
 *
 * Usage: tsx bench/processes/raw-relay.ts NATS_URL (prints "relay running" when consuming)
 */
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";

const url = process.argv[2];
if (!url) throw new Error("usage: raw-relay.ts NATS_URL");
const nc = await connect({ servers: url });
const jsm = await jetstreamManager(nc);
await jsm.consumers.add("RAW", { durable_name: "relay", ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
const js = jetstream(nc);
const messages = await (await js.consumers.get("RAW", "relay")).consume({ max_messages: 256 });
process.once("SIGTERM", () => messages.stop());
process.stdout.write("relay running\n");
for await (const m of messages) {
  js.publish(`relayed.${m.subject}`, m.data).then(
    () => m.ack(),
    () => m.nak(),
  );
}
await nc.drain();
