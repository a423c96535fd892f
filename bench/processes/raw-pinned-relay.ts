/**
 * The raw client's version of a single-active relay, as its own process: consume durable `pinned`
 * on stream `RAWO` in priority group `relay` (the bench creates it with `priority_policy:
 * pinned_client`), so the server hands messages to one relay process at a time; republish each
 * message to `relayed.<subject>` with the stock js.publish() under its Nats-Msg-Id, ack once the
 * republish is acked. The ordered-failover bench kills the pinned one and measures the gap.
 *
 * Usage: tsx bench/processes/raw-pinned-relay.ts NATS_URL
 * Prints "relay running" when consuming and "pinned" when the server pins this process.
 */
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";

const url = process.argv[2];
if (!url) throw new Error("usage: raw-pinned-relay.ts NATS_URL");
const nc = await connect({ servers: url });
const js = jetstream(nc);
const messages = await (await js.consumers.get("RAWO", "pinned")).consume({ max_messages: 256, expires: 1000, group: "relay" });
process.once("SIGTERM", () => messages.stop());
void (async () => {
  for await (const s of messages.status()) if (s.type === "consumer_pinned") process.stdout.write("pinned\n");
})();
process.stdout.write("relay running\n");
for await (const m of messages) {
  js.publish(`relayed.${m.subject}`, m.data, { msgID: m.headers?.get("Nats-Msg-Id") ?? `${m.seq}` }).then(
    () => m.ack(),
    () => m.nak(),
  );
}
await nc.drain();
