/**
 * The jetbus handler of the `notify` bench: an actor module whose handler counts the notification
 * by `data.i` into NOTIFY_COUNT_OUT, out of NOTIFY_N (bench/event-count.ts). Each of the three
 * actors runs it in its own `jetbus actor` process.
 */
import { defineActor } from "../../runtime/mod.ts";
import { eventCounter } from "../event-count.ts";

const out = process.env.NOTIFY_COUNT_OUT;
const n = Number(process.env.NOTIFY_N);
if (!out || !(n > 0)) throw new Error("notify-actor: set NOTIFY_COUNT_OUT and NOTIFY_N");
const counter = eventCounter(n, out);

export default defineActor<{ i: number }>({
  handle(event) {
    counter.record(event.data.i);
  },
});
