/**
 * The jetbus side's sink of the `e2e-latency` bench: an actor module whose handler records, as
 * its first statement, how long ago the publisher stamped the event (`data.t`, see
 * bench/latency-record.ts) into the file named by LATENCY_OUT.
 */
import { defineActor } from "../../runtime/mod.ts";
import { latencyRecorder } from "../latency-record.ts";

const out = process.env.LATENCY_OUT;
if (!out) throw new Error("latency-actor: set LATENCY_OUT to the samples file");
const recorder = latencyRecorder(out);

export default defineActor<{ t: number }>({
  handle(event) {
    recorder.record(event.data.t);
  },
});
