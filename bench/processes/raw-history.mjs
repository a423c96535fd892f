// The raw client's `jetbus history --limit 1`: connect, read the first stored event of EVENTS
// (a direct get of the next message on events.>, as jetbus's short history page does), print
// it, close. Plain JavaScript run by node with nothing else loaded: the floor a CLI could reach.
// Usage: node bench/processes/raw-history.mjs NATS_URL
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

const nc = await connect({ servers: process.argv[2] });
const jsm = await jetstreamManager(nc);
const m = await jsm.direct.getMessage("EVENTS", { seq: 1, next_by_subj: "events.>" });
process.stdout.write(`${m?.seq} ${m?.subject} ${m?.string()}\n`);
await nc.close();
