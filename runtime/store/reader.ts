import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  ReplayPolicy,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from "@nats-io/jetstream";
import { createInbox, type NatsConnection } from "@nats-io/transport-node";
import { JetbusError, PublishError, TimeoutError } from "../errors.ts";
import { retryTransient } from "../nats/connect.ts";
import { directBatch } from "../nats/direct-batch.ts";
import { isNotFound } from "../nats/errors.ts";
import { orMissing } from "../nats/missing.ts";
import type { WireMessage } from "../events/types.ts";

/** A stored message as the codec reads it (sequence and stream name make positional ids of raw messages). */
export function wireOf(
  m: StoredMsg | { subject: string; data: Uint8Array; headers?: WireMessage["headers"]; seq: number; time: Date },
  stream: string,
): WireMessage {
  if ("header" in m) return { subject: m.subject, data: m.data, headers: m.header, seq: m.seq, timestamp: m.time, stream };
  return { subject: m.subject, data: m.data, headers: m.headers, seq: m.seq, timestamp: m.time, stream };
}

/** One message read from a stream, whichever API fetched it. */
export type ReadMessage = Readonly<{ subject: string; data: Uint8Array; headers?: WireMessage["headers"]; seq: number; time: Date }>;

export type ScanOptions = Readonly<{
  subject?: string;
  fromSeq?: number;
  since?: Date;
  /** Stop after this many messages. */
  limit?: number;
  /** Messages fetched per pull. */
  batch?: number;
}>;

/**
 * Reads a stream without loading it: direct gets (O(1) by sequence or by a subject's last
 * message) and short-lived filtered consumers for ranges, pulled in batches.
 *
 * A stream made by hand (`nats stream add`, or any store jetbus did not create) may have
 * `allow_direct: false`, and jetbus uses a store as it finds it: nothing answers its direct gets
 * ("no responders"). So the stream's info is read once per reader and, without direct gets, the
 * same reads go to the stream leader's message get API (STREAM.MSG.GET): one get per message,
 * and the batched `multi_last` becomes one `next_by_subj` walk per subject.
 */
export class StreamReader {
  readonly js: JetStreamClient;
  private jsmP?: Promise<JetStreamManager>;
  private directP?: Promise<boolean>;

  constructor(
    private readonly nc: NatsConnection,
    readonly stream: string,
  ) {
    this.js = jetstream(nc);
  }

  jsm(): Promise<JetStreamManager> {
    return (this.jsmP ??= jetstreamManager(this.nc, { checkAPI: false }));
  }

  /**
   * Whether the stream answers direct gets, read once. A stream that does not exist yet is not
   * remembered (it may be created later) and is read as before, by direct gets.
   */
  private allowsDirect(): Promise<boolean> {
    return (this.directP ??= this.jsm()
      .then((jsm) => retryTransient(() => jsm.streams.info(this.stream)))
      .then(
        (info) => info.config.allow_direct === true,
        (err) => {
          this.directP = undefined;
          if (isNotFound(err)) return true;
          throw err;
        },
      ));
  }

  /** One stored message by a direct get, or by the leader's message get on a stream without direct gets. */
  private async get(q: { seq: number; next_by_subj?: string } | { last_by_subj: string }): Promise<StoredMsg | null> {
    const jsm = await this.jsm();
    if (await this.allowsDirect()) return retryTransient(() => jsm.direct.getMessage(this.stream, q));
    return retryTransient(() => orMissing(() => jsm.streams.getMessage(this.stream, q)));
  }

  async bySeq(seq: number): Promise<ReadMessage | null> {
    const m = await this.get({ seq });
    return m ? toRead(m) : null;
  }

  async lastBySubject(subject: string): Promise<ReadMessage | null> {
    const m = await this.get({ last_by_subj: subject });
    return m ? toRead(m) : null;
  }

  /**
   * The last message of every subject matching any of `subjects` (wildcards allowed), in ONE
   * batched direct get (`multi_last`, nats-server 2.11+), in stream order. Should the server cut
   * the batch short, the rest is read subject by subject (nextBySubject), so nothing is missed;
   * a stream without direct gets is read that way from the start.
   */
  async lastOfEach(subjects: readonly string[], timeoutMs = 5000): Promise<ReadMessage[]> {
    if (await this.allowsDirect()) {
      const { messages, truncated } = await retryTransient(() => this.multiLast(subjects, timeoutMs));
      if (!truncated) return messages;
    }
    const all = new Map<string, ReadMessage>();
    for (const subject of subjects) for await (const m of this.nextBySubject(subject)) all.set(m.subject, m);
    return [...all.values()].sort((a, b) => a.seq - b.seq);
  }

  private async multiLast(subjects: readonly string[], timeoutMs: number): Promise<{ messages: ReadMessage[]; truncated: boolean }> {
    const inbox = createInbox();
    const sub = this.nc.subscribe(inbox, { timeout: timeoutMs });
    this.nc.publish(`$JS.API.DIRECT.GET.${this.stream}`, JSON.stringify({ multi_last: subjects }), { reply: inbox });
    const messages: ReadMessage[] = [];
    try {
      for await (const m of sub) {
        const code = m.headers?.code ?? 0;
        if (code === 404) return { messages, truncated: false };
        if (code === 204) return { messages, truncated: Number(m.headers?.get("Nats-Num-Pending") ?? 0) > 0 };
        if (code !== 0 || !m.headers)
          throw new PublishError(`batched direct get from ${this.stream} failed: ${code} ${m.headers?.description ?? "no headers"}`, {
            retryable: code === 503 || code === 408,
          });
        const h = m.headers;
        messages.push({
          subject: h.get("Nats-Subject"),
          data: m.data,
          headers: h,
          seq: Number(h.get("Nats-Sequence")),
          time: new Date(h.get("Nats-Time-Stamp")),
        });
      }
    } catch (err) {
      if (err instanceof JetbusError) throw err;
      throw new TimeoutError(
        `no complete answer to a batched direct get from ${this.stream} within ${timeoutMs} ms (${(err as Error).message})`,
      );
    } finally {
      sub.unsubscribe();
    }
    throw new TimeoutError(`batched direct get from ${this.stream} ended without its end-of-batch marker`);
  }

  /**
   * Messages on `subject` in stream order from `fromSeq`, until the caller stops or none is left.
   * With `batch` above 1 (the caller's page size) and direct gets, each request is ONE batched
   * direct get (`next_by_subj` with `batch`, nats-server 2.11+) answering up to `batch` messages:
   * a page of 100 events of a type took 25-29 ms as 100 single gets and ~2.5-2.9 ms for a raw
   * consumer on 2.15.1, at 10k and 1M stored (`npm run bench -- queries`). Otherwise one get each
   * (`batch` 1, or a stream without direct gets): a get costs the same however much the stream
   * holds; creating a consumer (scan) cost time in proportion to the messages after its start on
   * server 2.9 (100+ ms on a 300k store). Single gets are not pipelined: the server answers one
   * connection's gets one after another, and asking ahead at guessed sequences measured slower.
   */
  async *nextBySubject(subject: string, fromSeq = 1, batch = 1): AsyncGenerator<ReadMessage> {
    let seq = Math.max(1, fromSeq);
    if (batch > 1 && (await this.allowsDirect())) {
      const jsm = await this.jsm();
      for (;;) {
        const got = await retryTransient(() =>
          directBatch(jsm, this.stream, { seq, batch: Math.min(batch, MAX_DIRECT_BATCH), next_by_subj: subject }),
        );
        // the server may end a batch early (max_bytes): ask again from after the last one until none is left
        if (got.length === 0) return;
        for (const m of got) yield toRead(m);
        seq = got[got.length - 1]!.seq + 1;
      }
    }
    for (;;) {
      const m = await this.get({ seq, next_by_subj: subject });
      if (!m) return;
      yield toRead(m);
      seq = m.seq + 1;
    }
  }

  /**
   * Messages in stream order from an ephemeral consumer (no acks, memory state, removed at the
   * end or by the server after inactivity). Bounded memory: one batch at a time.
   */
  async *scan(o: ScanOptions = {}): AsyncGenerator<ReadMessage> {
    const jsm = await this.jsm();
    const cfg: Partial<ConsumerConfig> = {
      ack_policy: AckPolicy.None,
      replay_policy: ReplayPolicy.Instant,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: 30_000_000_000,
      ...(o.subject ? { filter_subject: o.subject } : {}),
      ...(o.fromSeq && o.fromSeq > 1
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: o.fromSeq }
        : o.since
          ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: o.since.toISOString() }
          : { deliver_policy: DeliverPolicy.All }),
    };
    const info = await retryTransient(() => jsm.consumers.add(this.stream, cfg));
    let remaining = Math.min(info.num_pending, o.limit ?? Number.POSITIVE_INFINITY);
    const consumer = this.js.consumers.getConsumerFromInfo(info);
    const batch = o.batch ?? 256;
    try {
      while (remaining > 0) {
        const want = Math.min(batch, remaining);
        const iter = await consumer.fetch({ max_messages: want, expires: 2000 });
        let got = 0;
        for await (const m of iter) {
          got++;
          remaining--;
          yield {
            subject: m.subject,
            data: m.data,
            headers: m.headers,
            seq: m.seq,
            time: new Date(Math.floor(m.info.timestampNanos / 1_000_000)),
          };
          if (remaining <= 0) break;
        }
        // retention removed what was pending when the consumer was made: nothing more to read
        if (got === 0) break;
      }
    } finally {
      jsm.consumers.delete(this.stream, info.name).catch(() => undefined);
    }
  }
}

/** Messages one batched direct get answers at most: 256, as the catch-up reads ask (runtime/routing/catch-up.ts). */
const MAX_DIRECT_BATCH = 256;

function toRead(m: StoredMsg): ReadMessage {
  return { subject: m.subject, data: m.data, headers: m.header, seq: m.seq, time: m.time };
}
