import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg, type OrderedConsumerOptions } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { PublishError } from "../errors.ts";
import { retryTransient } from "./connect.ts";
import { headerBlockOf } from "./delivered.ts";
import { directBatch, type DirectBatch, type DirectBatchRequest } from "./direct-batch.ts";

/** One stored message of a bounded read. */
export type BoundedMsg = Readonly<{
  subject: string;
  /** Empty with `headersOnly`. */
  data: Uint8Array;
  headers: MsgHdrs | undefined;
  /** The header block as received, when the client kept it (the codec reads it faster than `headers`). */
  headerBlock?: string;
  seq: number;
  time: Date;
}>;

export type BoundedReadOptions = Readonly<{
  /** Subjects to read (wildcards allowed); every subject of the stream when absent. */
  filter?: string;
  /** First stream sequence to read (default 1). */
  fromSeq?: number;
  /** Read from the first message stored at or after this time (when `fromSeq` is absent). */
  since?: Date;
  /** Last stream sequence to read (inclusive). */
  toSeq?: number;
  /** Stop after this many messages. */
  limit?: number;
  /** Only the newest message of each subject (a KV bucket's current entries). */
  lastPerSubject?: boolean;
  /** Headers only, no bodies (lists over large messages). */
  headersOnly?: boolean;
  /** Messages asked for per request (default 256). */
  batch?: number;
}>;

const DEFAULT_BATCH = 256;
/** What the server answers one batched direct get with at most, whatever `batch` asks. */
const MAX_DIRECT_BATCH = 1000;

/**
 * THE bounded read of a stream: the messages matching `filter` that are stored when the read
 * starts, in stream order, never what producers add after (an operator command or a catch-up
 * must finish while events keep coming). Callers stop early by leaving the loop.
 *
 * How it asks: batched direct gets (nats-server 2.11+) by default: one request per `batch`
 * messages and nothing to create or delete, so a short read (`jetbus history`) is ONE request
 * where a consumer costs three (create, pull, delete). The first answer says how many messages
 * match after it (Nats-Num-Pending): that count is the bound. An ordered consumer instead when a
 * direct get cannot do the read: headers only, newest message per subject, or a stream without
 * direct gets (made by hand with `allow_direct: false`), found from the first request's "no
 * responders" with one stream info (which also tells a missing stream, as a not-found error).
 */
export async function* readBounded(nc: NatsConnection, stream: string, o: BoundedReadOptions = {}): AsyncGenerator<BoundedMsg> {
  if (o.limit !== undefined && o.limit <= 0) return;
  if (!o.headersOnly && !o.lastPerSubject) {
    const direct = readByDirectGets(nc, stream, o);
    const first = await direct.next();
    if (first.done && first.value === "answered") return;
    if (!first.done) {
      yield first.value;
      yield* direct;
      return;
    }
  }
  yield* readByConsumer(nc, stream, o);
}

/** Direct-get reads; returns "no-direct" (before yielding anything) when the stream does not answer them. */
async function* readByDirectGets(
  nc: NatsConnection,
  stream: string,
  o: BoundedReadOptions,
): AsyncGenerator<BoundedMsg, "answered" | "no-direct"> {
  const batch = Math.min(o.batch ?? DEFAULT_BATCH, MAX_DIRECT_BATCH);
  let left = o.limit ?? Number.POSITIVE_INFINITY;
  let start: Pick<DirectBatchRequest, "seq" | "start_time"> =
    o.fromSeq === undefined && o.since ? { start_time: o.since.toISOString() } : { seq: Math.max(1, o.fromSeq ?? 1) };
  /** Messages that matched when the read started, counted down (known after the first answer). */
  let bound: number | undefined;
  for (;;) {
    const want = Math.min(batch, left, bound ?? Number.POSITIVE_INFINITY);
    if (want <= 0) return "answered";
    const req: DirectBatchRequest = { batch: want, ...start, ...(o.filter ? { next_by_subj: o.filter } : {}) };
    const got = await retryTransient(async () => {
      const answer = await directBatch(nc, stream, req);
      if (answer.answered || bound !== undefined) return answered(answer, stream);
      return (await allowsDirect(nc, stream)) ? answered(answer, stream) : null;
    });
    if (!got) return "no-direct";
    bound ??= got.messages.length + got.pending;
    for (const m of got.messages) {
      if (o.toSeq !== undefined && m.seq > o.toSeq) return "answered";
      left--;
      bound--;
      yield { subject: m.subject, data: m.data, headers: m.headers, seq: m.seq, time: m.time };
    }
    // nothing stored from there on, or nothing more matched
    if (got.messages.length === 0 || got.pending === 0) return "answered";
    start = { seq: got.messages[got.messages.length - 1]!.seq + 1 };
  }
}

/** A "no responders" answer from a stream that takes direct gets: no leader right now, asked again by retryTransient. */
function answered(answer: DirectBatch, stream: string): Extract<DirectBatch, { answered: true }> {
  if (!answer.answered) throw new PublishError(`no answer to direct gets of ${stream} (no leader?)`, { retryable: true });
  return answer;
}

/** Whether the stream takes direct gets; a missing stream is the server's not-found error (callers use orMissing). */
async function allowsDirect(nc: NatsConnection, stream: string): Promise<boolean> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  return (await jsm.streams.info(stream)).config.allow_direct === true;
}

/**
 * Reads with ONE ordered consumer (ephemeral, flow-controlled, deleted at the end). Its starting
 * set is fixed when it is created: `num_pending` then is the bound, or for the newest message per
 * subject the stream's last sequence read right after the creation (a subject rewritten during
 * the read is still read: its old message may be gone, its new one comes before that sequence).
 * An ordered consumer that resets mid-read restarts after the last sequence seen, so a subject
 * may come twice with `lastPerSubject`: callers keep the later message.
 */
async function* readByConsumer(nc: NatsConnection, stream: string, o: BoundedReadOptions): AsyncGenerator<BoundedMsg> {
  const opts: Partial<OrderedConsumerOptions> = {
    ...(o.filter ? { filter_subjects: o.filter } : {}),
    ...(o.headersOnly ? { headers_only: true } : {}),
    ...(o.lastPerSubject
      ? { deliver_policy: DeliverPolicy.LastPerSubject }
      : o.fromSeq !== undefined && o.fromSeq > 1
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: o.fromSeq }
        : o.fromSeq === undefined && o.since
          ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: o.since.toISOString() }
          : { deliver_policy: DeliverPolicy.All }),
  };
  const consumer = await retryTransient(() => jetstream(nc).consumers.get(stream, opts));
  try {
    // the creation's answer says how many messages the starting set holds
    let bound = (await consumer.info(true)).num_pending;
    if (bound === 0) return;
    let toSeq = o.toSeq ?? Number.POSITIVE_INFINITY;
    if (o.lastPerSubject) {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      toSeq = Math.min(toSeq, (await retryTransient(() => jsm.streams.info(stream))).state.last_seq);
      bound = Number.POSITIVE_INFINITY;
    }
    let left = o.limit ?? Number.POSITIVE_INFINITY;
    for (;;) {
      const batch = await consumer.fetch({ max_messages: Math.min(o.batch ?? DEFAULT_BATCH, left, bound), expires: 1000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        if (m.seq > toSeq) return;
        left--;
        bound--;
        yield fromConsumer(m);
        if (left <= 0 || bound <= 0 || m.seq >= toSeq || m.info.pending === 0) return;
      }
      // nothing delivered within the pull's expiry: nothing (more) matches
      if (got === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

function fromConsumer(m: JsMsg): BoundedMsg {
  return {
    subject: m.subject,
    data: m.data,
    headers: m.headers,
    headerBlock: headerBlockOf(m),
    seq: m.seq,
    time: new Date(Math.floor(m.info.timestampNanos / 1_000_000)),
  };
}
