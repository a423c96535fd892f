import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { retryTransient } from "../nats/connect.ts";
import { directBatch } from "../nats/direct-batch.ts";
import { orMissing } from "../nats/missing.ts";
import type { StoredEventMsg } from "./copies.ts";

/** Messages per batched direct get: one request instead of one per event. */
const BATCH = 256;

/**
 * The stored messages from `from` to `to` in stream order. With direct gets allowed on the
 * stream, a batched direct get (nats-server 2.11+) returns up to BATCH messages per request;
 * otherwise one get per sequence. Only "no message" means acked and gone (or a gap): a read that
 * timed out is retried, never skipped, as a skipped event would come back out of order.
 */
async function* storedRange(
  jsm: JetStreamManager,
  stream: string,
  from: number,
  to: number,
  stopped: () => boolean,
): AsyncGenerator<StoredMsg> {
  const info = await retryTransient(() => jsm.streams.info(stream));
  if (!info.config.allow_direct) {
    for (let seq = from; seq <= to && !stopped(); seq++) {
      const sm = await retryTransient(() => orMissing(() => jsm.streams.getMessage(stream, { seq })));
      if (sm) yield sm;
    }
    return;
  }
  for (let seq = from; seq <= to && !stopped();) {
    const batch = await retryTransient(() => directBatch(jsm, stream, { seq, batch: Math.min(BATCH, to - seq + 1) }));
    // "not found": nothing left from seq on (retention removed it)
    if (batch.length === 0) return;
    const inRange = batch.filter((m) => m.seq <= to);
    for (const m of inRange) yield m;
    if (inRange.length < batch.length) return;
    seq = batch[batch.length - 1]!.seq + 1;
    // let the client's socket work run between batches: a pinned lane keeps its pin only by pulling
    await new Promise((r) => setImmediate(r));
  }
}

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
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  route: (m: StoredEventMsg) => Promise<unknown>,
  stopped: () => boolean,
): Promise<CatchUpResult> {
  const ci = await retryTransient(() => jsm.consumers.info(stream, durable));
  const from = ci.ack_floor.stream_seq + 1;
  const to = ci.delivered.stream_seq;
  if (ci.num_ack_pending === 0) return { from, to: from - 1, rerouted: 0, settled: Promise.resolve(0) };
  const pending: Array<Promise<unknown>> = [];
  for await (const sm of storedRange(jsm, stream, from, to, stopped)) {
    pending.push(route({ subject: sm.subject, data: sm.data, headers: sm.header, seq: sm.seq, stream, timestamp: sm.time }));
  }
  const settled = Promise.allSettled(pending).then((results) => results.filter((r) => r.status === "rejected").length);
  return { from, to, rerouted: pending.length, settled };
}
