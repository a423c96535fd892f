import type { JetStreamManager } from "@nats-io/jetstream";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import type { StoredEventMsg } from "./copies.ts";

export type CatchUpResult = Readonly<{ from: number; to: number; rerouted: number; failed: number }>;

/**
 * Events a consumer took but never acked come back only after ack_wait, while newer events flow
 * at once: an ordered actor could get a key's newer event first. So a lane taking a durable over
 * first re-routes, in stream order, every delivered-but-unacked event (ack floor + 1 up to the
 * last delivered sequence), read straight from the stream. Copies keep their Nats-Msg-Id, so
 * whatever the previous consumer already published is deduplicated; the originals are acked
 * when their redelivery comes (again deduplicated). `route` is called in stream order, one
 * event at a time (chains rely on the call order); the copies are awaited together at the end.
 */
export async function rerouteUnacked(jsm: JetStreamManager, stream: string, durable: string, route: (m: StoredEventMsg) => Promise<unknown>, stopped: () => boolean): Promise<CatchUpResult> {
  const ci = await retryTransient(() => jsm.consumers.info(stream, durable));
  const from = ci.ack_floor.stream_seq + 1;
  const to = ci.delivered.stream_seq;
  if (ci.num_ack_pending === 0) return { from, to: from - 1, rerouted: 0, failed: 0 };
  const pending: Array<Promise<unknown>> = [];
  for (let seq = from; seq <= to && !stopped(); seq++) {
    // only "no message" means acked and gone (or a gap): a timed-out read skipped here would come back out of order
    const sm = await retryTransient(() => orMissing(() => jsm.streams.getMessage(stream, { seq })));
    if (!sm) continue;
    pending.push(route({ subject: sm.subject, data: sm.data, headers: sm.header, seq: sm.seq, stream, timestamp: sm.time }));
  }
  const results = await Promise.allSettled(pending);
  return { from, to, rerouted: pending.length, failed: results.filter((r) => r.status === "rejected").length };
}
