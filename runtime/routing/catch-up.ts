import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { readBounded } from "../nats/bounded-read.ts";
import { retryTransient } from "../nats/connect.ts";
import type { StoredEventMsg } from "./copies.ts";

/** Events handed to `route` between two turns of the event loop: a pinned lane keeps its pin only by pulling. */
const YIELD_EVERY = 256;

export type CatchUpResult = Readonly<{
  from: number;
  to: number;
  rerouted: number;
  /** Resolves once every re-routed event's copies are acked (or failed): how many failed. */
  settled: Promise<number>;
}>;

/**
 * Events a consumer took but never acked come back only after ack_wait, while newer events flow
 * at once: an ordered actor could get a key's newer event first. So a lane taking a durable over
 * first re-routes, in stream order, every delivered-but-unacked event (ack floor + 1 up to the
 * last delivered sequence), read straight from the stream. Copies keep their Nats-Msg-Id, so
 * whatever the previous consumer already published is deduplicated; the originals are acked
 * when their redelivery comes (again deduplicated). `route` is called in stream order, one
 * event at a time (chains rely on the call order); this resolves once every event is handed to
 * `route`, not when the copies are acked (`settled`), so a caller's chains can go on at once.
 */
export async function rerouteUnacked(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  route: (m: StoredEventMsg) => Promise<unknown>,
  stopped: () => boolean,
): Promise<CatchUpResult> {
  const ci = await retryTransient(() => jsm.consumers.info(stream, durable));
  const from = ci.ack_floor.stream_seq + 1;
  const to = ci.delivered.stream_seq;
  // by the floor, not num_ack_pending: whatever lies between the floor and the last delivery (a nakked event waiting
  // out its delay included) is re-routed here, in store order, before the deliveries that follow it
  if (from > to) return { from, to: from - 1, rerouted: 0, settled: Promise.resolve(0) };
  const pending: Array<Promise<unknown>> = [];
  // only "no message" means acked and gone (or a gap): a read that timed out is asked again, never
  // skipped, as a skipped event would come back out of order
  for await (const sm of readBounded(nc, stream, { fromSeq: from, toSeq: to })) {
    if (stopped()) break;
    pending.push(route({ subject: sm.subject, data: sm.data, headers: sm.headers, seq: sm.seq, stream, timestamp: sm.time }));
    if (pending.length % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
  }
  const settled = Promise.allSettled(pending).then((results) => results.filter((r) => r.status === "rejected").length);
  return { from, to, rerouted: pending.length, settled };
}
