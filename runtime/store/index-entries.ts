import { headers as natsHeaders } from "@nats-io/transport-node";
import { retryTransient } from "../nats/connect.ts";
import { isWrongLastSequence } from "../nats/errors.ts";
import { tokenFor } from "../events/subjects.ts";
import { Subjects } from "../topology.ts";
import type { BulkPublisher } from "./bulk.ts";
import type { PubAck } from "./types.ts";
import type { StreamReader } from "./reader.ts";

/**
 * The derived indexes, as messages in the index stream. Every index subject holds ONE message
 * (max_msgs_per_subject 1): nats-server 2.9 finds the last message of such a subject in O(1),
 * while a subject with several messages far apart in the stream costs a scan between them.
 *
 * - `index.<stream>.id.<token(id)>`: `{"seq":N}`, the event's store sequence.
 * - `index.<stream>.corr.<token(correlation)>`: the head of the correlation's chain,
 *   `{"seq":N,"prev":P}`: N the newest event of the flow, P the one before it (0: none).
 * - `index.<stream>.link.<N>`: `{"seq":N,"prev":P}` for every event N of a flow, so a reader
 *   walks head -> link(P) -> link(prev of P) ... one direct get per event: the cost of a
 *   correlation lookup grows with the flow, never with the store.
 *
 * The head is replaced with Nats-Expected-Last-Subject-Sequence = the head it replaces, so two
 * indexers can never fork a chain. Head writes carry a Nats-Msg-Id derived from the event's
 * store sequence, so a resend after a lost PubAck is answered "duplicate" instead of failing the
 * expected-sequence check. Id entries and links carry none: with one message per subject a
 * repeat (redelivery, resend) replaces the entry with the same content, and headers on every
 * write were a large share of the indexer's CPU. Readers drop repeats.
 */
export type IdEntry = Readonly<{ seq: number }>;
export type ChainEntry = Readonly<{ seq: number; prev: number }>;
/** The newest entry of a correlation: the head message's index sequence and its content. */
export type ChainHead = Readonly<{ headSeq: number; eventSeq: number; prev: number }>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence";
const MAX_CONFLICT_RETRIES = 20;

/** How the writer reads an index subject's current message: a direct "last by subject" get. */
export type LastBySubject = (subject: string) => Promise<Readonly<{ seq: number; data: Uint8Array }> | null>;

export function parseEntry<T>(m: Readonly<{ data: Uint8Array }> | null): T | null {
  if (!m) return null;
  try {
    return JSON.parse(decoder.decode(m.data)) as T;
  } catch {
    return null;
  }
}

export class IndexSubjects {
  constructor(readonly eventStream: string) {}
  byId(id: string): string {
    return Subjects.indexById(this.eventStream, tokenFor(id));
  }
  byCorrelation(correlationId: string): string {
    return Subjects.indexByCorrelation(this.eventStream, tokenFor(correlationId));
  }
  link(eventSeq: number): string {
    return Subjects.indexLink(this.eventStream, eventSeq);
  }
}

/** Writes id entries and appends to correlation chains; appends to one chain are serialised, different chains run in parallel. */
export class IndexWriter {
  private readonly subjects: IndexSubjects;
  /** Last known head per correlation, as a promise so an append can queue behind one still in flight. Bounded, oldest dropped. */
  private readonly heads = new Map<string, Promise<ChainHead | null>>();

  constructor(
    private readonly lastBySubject: LastBySubject,
    private readonly bulk: BulkPublisher,
    eventStream: string,
    private readonly maxCachedHeads = 250_000,
  ) {
    this.subjects = new IndexSubjects(eventStream);
  }

  async writeId(id: string, eventSeq: number): Promise<void> {
    await this.bulk.publish({ subject: this.subjects.byId(id), data: encoder.encode(`{"seq":${eventSeq}}`) });
  }

  appendCorrelation(correlationId: string, eventSeq: number): Promise<ChainHead | null> {
    const before = this.heads.get(correlationId);
    const next = (before ?? Promise.resolve(undefined)).catch(() => undefined).then((head) => this.append(correlationId, eventSeq, head));
    this.heads.delete(correlationId); // re-insert: Map order = recency
    this.heads.set(correlationId, next);
    if (this.heads.size > this.maxCachedHeads) this.heads.delete(this.heads.keys().next().value!);
    next.catch(() => {
      if (this.heads.get(correlationId) === next) this.heads.delete(correlationId);
    });
    return next;
  }

  /** Replaces a correlation's head, only if it is still the message `expectedLastSubjectSeq` (0: no head yet). */
  private putHead(correlationId: string, data: Uint8Array, msgId: string, expectedLastSubjectSeq: number): Promise<PubAck> {
    const h = natsHeaders();
    h.set("Nats-Msg-Id", `${this.subjects.eventStream}:${msgId}`);
    h.set(EXPECTED_LAST_SUBJECT_SEQ, String(expectedLastSubjectSeq));
    return this.bulk.publish({ subject: this.subjects.byCorrelation(correlationId), data, headers: h });
  }

  private read(subject: string): Promise<Readonly<{ seq: number; data: Uint8Array }> | null> {
    return retryTransient(() => this.lastBySubject(subject));
  }

  private async readHead(correlationId: string): Promise<ChainHead | null> {
    const m = await this.read(this.subjects.byCorrelation(correlationId));
    const entry = parseEntry<ChainEntry>(m);
    return m && entry ? { headSeq: m.seq, eventSeq: entry.seq, prev: entry.prev } : null;
  }

  /**
   * Was this event linked already (a redelivery)? Its link exists and the head has moved to or
   * past it. A link without such a head is a write cut short: append again.
   */
  private async alreadyLinked(head: ChainHead, eventSeq: number): Promise<boolean> {
    if (head.eventSeq === eventSeq) return true;
    return (await this.read(this.subjects.link(eventSeq))) !== null;
  }

  private async append(correlationId: string, eventSeq: number, cached: ChainHead | null | undefined): Promise<ChainHead | null> {
    // Not cached: read the head (one O(1) direct get); a stale or missing read is caught by the
    // expected-sequence check below (nats-server 2.9.10 refuses "expected 0" on an existing head too).
    let head = cached === undefined ? await this.readHead(correlationId) : cached;
    for (let attempt = 0; ; attempt++) {
      // after a conflict the link found is our own first attempt's, not proof of an earlier run
      if (attempt === 0 && head && head.eventSeq >= eventSeq && (await this.alreadyLinked(head, eventSeq))) return head;
      const entry: ChainEntry = { seq: eventSeq, prev: head?.eventSeq ?? 0 };
      // built from two numbers: no JSON.stringify per write
      const data = encoder.encode(`{"seq":${entry.seq},"prev":${entry.prev}}`);
      try {
        // the link first: once the head points at an event, its link exists
        await this.bulk.publish({ subject: this.subjects.link(eventSeq), data });
        const ack = await this.putHead(correlationId, data, `${eventSeq}:corr:${entry.prev}`, head?.headSeq ?? 0);
        return { headSeq: ack.seq, eventSeq, prev: entry.prev };
      } catch (err) {
        // another writer moved the head (a second indexer, or our cache is stale): read it and try again
        if (attempt >= MAX_CONFLICT_RETRIES || !isWrongLastSequence(err)) throw err;
        head = await this.readHead(correlationId);
      }
    }
  }
}

/** Store sequences of a correlation's events, newest first, following the links; entries lost to retention end the walk. */
export async function* walkCorrelation(index: StreamReader, subjects: IndexSubjects, correlationId: string): AsyncGenerator<number> {
  let entry = parseEntry<ChainEntry>(await index.lastBySubject(subjects.byCorrelation(correlationId)));
  const seen = new Set<number>();
  while (entry && entry.seq > 0 && !seen.has(entry.seq)) {
    seen.add(entry.seq);
    yield entry.seq;
    // two indexers may append out of stream order, so prev can be a later event; `seen` ends cycles
    if (!entry.prev) return;
    entry = parseEntry<ChainEntry>(await index.lastBySubject(subjects.link(entry.prev)));
  }
}
