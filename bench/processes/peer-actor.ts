/**
 * The jetbus side's handler of the `peers` bench: an actor module whose handler is a no-op that
 * counts the event by its id (`bench-<i>`, see bench/event-count.ts) into the file named by
 * PEER_COUNT_OUT, out of PEER_N events. With LATENCY_OUT set it first records publish -> handler
 * latency from `data.t` (bench/latency-record.ts).
 */
import { defineActor } from "../../runtime/mod.ts";
import { eventCounter } from "../event-count.ts";
import { latencyRecorder } from "../latency-record.ts";

const out = process.env.PEER_COUNT_OUT;
const n = Number(process.env.PEER_N);
if (!out || !(n > 0)) throw new Error("peer-actor: set PEER_COUNT_OUT to the tally file and PEER_N to the number of events");
const counter = eventCounter(n, out);
const latency = process.env.LATENCY_OUT ? latencyRecorder(process.env.LATENCY_OUT) : undefined;
const ID_PREFIX = "bench-".length;

export default defineActor<{ t: number }>({
  handle(event) {
    latency?.record(event.data.t);
    counter.record(Number(event.id.slice(ID_PREFIX)));
  },
});
