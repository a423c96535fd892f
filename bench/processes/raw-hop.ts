/**
 * One hop of the raw client's two-hop pipeline, as its own process (the pipeline bench compares
 * `jetbus router` + `jetbus actor` with it):
 * - `relay`: consume() durable `relay` on RAWEV, republish each message to `rawq.<subject>` with
 *   the stock js.publish() and a Nats-Msg-Id, ack the original once the PubAck is in;
 * - `sink`: consume() durable `sink` on RAWQ, parse the JSON body, ack.
 *
 * Usage: tsx bench/processes/raw-hop.ts NATS_URL relay|sink   (prints "hop running" when consuming)
 */
import { connect, headers } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";

const [url, role] = process.argv.slice(2);
if (!url || (role !== "relay" && role !== "sink")) throw new Error("usage: raw-hop.ts NATS_URL relay|sink");
const nc = await connect({ servers: url.split(",") });
const js = jetstream(nc);
const consumer = await js.consumers.get(role === "relay" ? "RAWEV" : "RAWQ", role);
const messages = await consumer.consume({ max_messages: role === "relay" ? 512 : 100 });
process.once("SIGTERM", () => messages.stop());
process.stdout.write("hop running\n");
const decoder = new TextDecoder();
for await (const m of messages) {
  if (role === "sink") {
    JSON.parse(decoder.decode(m.data));
    m.ack();
    continue;
  }
  const h = headers();
  h.set("Nats-Msg-Id", `${m.headers?.get("Nats-Msg-Id") ?? m.seq}:sink`);
  js.publish(`rawq.${m.subject}`, m.data, { headers: h }).then(
    () => m.ack(),
    () => m.nak(),
  );
}
await nc.drain();
