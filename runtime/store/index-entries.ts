import { tokenFor } from "../events/subjects.ts";
import { Subjects } from "../topology.ts";
import type { BulkPublisher } from "./bulk.ts";
import type { StreamReader } from "./reader.ts";

/**
 * The derived indexes, as messages in the index stream, each subject holding ONE message
 * (max_msgs_per_subject 1):
 *
 * - `index.<stream>.id.<token(id)>`: `{"seq":N}`, the event's store sequence (one direct get).
 * - `index.<stream>.corr.<token(correlation)>.<N>`: `{"seq":N}` for every event N of a flow; the
 *   whole flow is ONE batched direct get (`multi_last` on `corr.<token>.>`, nats-server 2.11+).
 *
 * So indexing an event is two independent publishes, pipelined, with no read before them and no
 * order between events: a redelivery or a second indexer rewrites the same subjects with the
 * same content. (Until 0.2 a correlation was a linked chain, head `corr.<token>` plus `link.<N>`:
 * a head read and three dependent writes per event, serialised per flow. Readers still walk such
 * a chain, so an index written before is read until `jetbus index rebuild`.)
 */
export type IdEntry = Readonly<{ seq: number }>;
export type ChainEntry = Readonly<{ seq: number; prev: number }>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
  correlationEntry(correlationId: string, eventSeq: number): string {
    return Subjects.indexCorrelationEntry(this.eventStream, tokenFor(correlationId), eventSeq);
  }
  correlationEntries(correlationId: string): string {
    return Subjects.indexCorrelationEntries(this.eventStream, tokenFor(correlationId));
  }
  /** Legacy chain head. */
  byCorrelation(correlationId: string): string {
    return Subjects.indexByCorrelation(this.eventStream, tokenFor(correlationId));
  }
  /** Legacy chain link. */
  link(eventSeq: number): string {
    return Subjects.indexLink(this.eventStream, eventSeq);
  }
}

/** Writes an event's id entry and correlation entry, each one pipelined core publish (BulkPublisher). */
export class IndexWriter {
  private readonly subjects: IndexSubjects;

  constructor(
    private readonly bulk: BulkPublisher,
    eventStream: string,
  ) {
    this.subjects = new IndexSubjects(eventStream);
  }

  /** Both entries of one event; resolves once both are stored. */
  write(id: string, correlationId: string, eventSeq: number): Promise<unknown> {
    // built from a number: no JSON.stringify per write
    const data = encoder.encode(`{"seq":${eventSeq}}`);
    return Promise.all([
      this.bulk.publish({ subject: this.subjects.byId(id), data }),
      this.bulk.publish({ subject: this.subjects.correlationEntry(correlationId, eventSeq), data }),
    ]);
  }
}

/**
 * Store sequences of a correlation's events (any order, possibly with repeats), in ONE request:
 * a batched direct get of its entries and of the head of a legacy chain (indexes written before
 * 0.2), whose links are then walked only if there is one.
 */
export async function correlationSeqs(index: StreamReader, subjects: IndexSubjects, correlationId: string): Promise<number[]> {
  const head = subjects.byCorrelation(correlationId);
  const seqs: number[] = [];
  let legacy: ChainEntry | null = null;
  for (const m of await index.lastOfEach([subjects.correlationEntries(correlationId), head])) {
    if (m.subject === head) legacy = parseEntry<ChainEntry>(m);
    else {
      const seq = parseEntry<IdEntry>(m)?.seq ?? 0;
      if (seq > 0) seqs.push(seq);
    }
  }
  if (legacy) for await (const seq of walkChain(index, subjects, legacy)) seqs.push(seq);
  return seqs;
}

/** Store sequences of a legacy chain from its head, newest first, following the links; entries lost to retention end the walk. */
async function* walkChain(index: StreamReader, subjects: IndexSubjects, head: ChainEntry): AsyncGenerator<number> {
  let entry: ChainEntry | null = head;
  const seen = new Set<number>();
  while (entry && entry.seq > 0 && !seen.has(entry.seq)) {
    seen.add(entry.seq);
    yield entry.seq;
    // two indexers may append out of stream order, so prev can be a later event; `seen` ends cycles
    if (!entry.prev) return;
    entry = parseEntry<ChainEntry>(await index.lastBySubject(subjects.link(entry.prev)));
  }
}
