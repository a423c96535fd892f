import { jetstreamManager, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { readBounded, type BoundedReadOptions } from "../nats/bounded-read.ts";
import { retryTransient } from "../nats/connect.ts";
import { directBatch } from "../nats/direct-batch.ts";
import { isNotFound } from "../nats/errors.ts";
import { orMissing } from "../nats/missing.ts";
import { PublishError } from "../errors.ts";
import type { WireMessage } from "../events/types.ts";

/** A stored message as the codec reads it (sequence and stream name make positional ids of raw messages). */
export function wireOf(m: ReadMessage, stream: string): WireMessage {
  return { subject: m.subject, data: m.data, headers: m.headers, headerBlock: m.headerBlock, seq: m.seq, timestamp: m.time, stream };
}

/** One message read from a stream, whichever API fetched it. */
export type ReadMessage = Readonly<{
  subject: string;
  data: Uint8Array;
  headers?: WireMessage["headers"];
  headerBlock?: string;
  seq: number;
  time: Date;
}>;

/**
 * Reads a stream without loading it: direct gets (O(1) by sequence or by a subject's last
 * message) and bounded reads (readBounded) for ranges.
 *
 * A stream made by hand (`nats stream add`, or any store jetbus did not create) may have
 * `allow_direct: false`, and jetbus uses a store as it finds it: nothing answers its direct gets
 * ("no responders"). So the stream's info is read once per reader and, without direct gets, the
 * same single reads go to the stream leader's message get API (STREAM.MSG.GET), and the batched
 * `multi_last` becomes one `next_by_subj` read per subject.
 */
export class StreamReader {
  private jsmP?: Promise<JetStreamManager>;
  private directP?: Promise<boolean>;

  constructor(
    private readonly nc: NatsConnection,
    readonly stream: string,
  ) {}

  jsm(): Promise<JetStreamManager> {
    return (this.jsmP ??= jetstreamManager(this.nc, { checkAPI: false }));
  }

  /**
   * Whether the stream answers direct gets, read once. A stream that does not exist yet is not
   * remembered (it may be created later) and is read as before, by direct gets.
   */
  takesDirectGets(): Promise<boolean> {
    return this.allowsDirect();
  }

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
  private async get(q: { seq: number } | { last_by_subj: string }): Promise<StoredMsg | null> {
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
   * the batch short, the rest is read subject by subject, so nothing is missed; a stream without
   * direct gets is read that way from the start.
   */
  async lastOfEach(subjects: readonly string[], timeoutMs = 5000): Promise<ReadMessage[]> {
    if (await this.allowsDirect()) {
      const got = await retryTransient(async () => {
        const answer = await directBatch(this.nc, this.stream, { multi_last: subjects, batch: MULTI_LAST_BATCH }, timeoutMs);
        if (!answer.answered) throw new PublishError(`no answer to direct gets of ${this.stream} (no leader?)`, { retryable: true });
        return answer;
      });
      if (got.pending === 0) return got.messages;
    }
    const all = new Map<string, ReadMessage>();
    for (const subject of subjects) for await (const m of this.read({ filter: subject })) all.set(m.subject, m);
    return [...all.values()].sort((a, b) => a.seq - b.seq);
  }

  /** A bounded read of this stream (readBounded): what matches when it starts, in stream order. */
  read(o: BoundedReadOptions): AsyncGenerator<ReadMessage> {
    return readBounded(this.nc, this.stream, o);
  }
}

/** Messages one `multi_last` answers at most; past it the server ends the batch early and says how many are left. */
const MULTI_LAST_BATCH = 1000;

function toRead(m: StoredMsg): ReadMessage {
  return { subject: m.subject, data: m.data, headers: m.header, seq: m.seq, time: m.time };
}
