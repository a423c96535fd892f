import { tokenFor } from "../events/subjects.ts";
import { headerBlock } from "../nats/header-block.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import { DirectGets } from "../nats/direct.ts";
import { isWrongLastSequence } from "../nats/errors.ts";
import { Subjects } from "../topology.ts";
import type { BulkPublisher } from "./bulk.ts";
import { StreamReader } from "./reader.ts";

/**
 * The derived indexes, as messages in the index stream, each subject holding ONE message
 * (max_msgs_per_subject 1):
 *
 * - `index.<stream>.id.<token(id)>`: `{"seq":N}`, the event's store sequence (one direct get).
 *   Written only if the subject holds nothing yet (`Nats-Expected-Last-Subject-Sequence: 0`), so
 *   the write itself says whether the id is already stored under another sequence (an event
 *   published again after the store's duplicate window): a refused write is read once, and if it
 *   names another event the entry is rewritten as `{"seq":N,"repeats":M}` (the newest holder is
 *   what `getById` returns, as before). Nothing else reads before writing.
 * - `index.<stream>.corr.<token(correlation)>.<N>`: `{"seq":N}` for every event N of a flow whose
 *   correlation is not its own id. The event that starts a flow (correlation = its own id, every
 *   event published without one) has only its id entry, which the correlation query reads too:
 *   ONE batched direct get of `corr.<token>.>`, the legacy head and `id.<token>` (`multi_last`,
 *   nats-server 2.11+).
 *
 * So indexing an event is one write (two for an event inside another's flow), pipelined, with no
 * read before it and no order between events. Why not always one: one subject can be a prefix of
 * both lookups only when id = correlation; a second, correlation-first subject made by the server
 * (a stream sourcing the index with a subject transform) cost it 38 us per entry against 27 for
 * two client writes and 17-18 for one guarded write (100k entries, nats-server 2.15.1,
 * .scratch-free figures in the README), and a correlation lookup with a wildcard in the middle
 * (`id.*.<corr>`) grows with the index (4-9 ms at 100k entries). Until 0.2 a correlation was a
 * linked chain (head `corr.<token>` plus `link.<N>`); readers still walk such a chain, and every
 * event indexed before (an entry for every event under `corr.`) is read as it is.
 */
export type IdEntry = Readonly<{ seq: number; repeats?: number }>;
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

/** Only if the subject holds nothing: the id entry's write is also the test whether the id is stored already. */
const FIRST_ENTRY = headerBlock("\r\nNats-Expected-Last-Subject-Sequence: 0");

/** How indexing one event ended: an error, or whether its id repeats one stored before. */
export type Recorded = (err: Error | undefined, repeated: boolean) => void;

/** Reads of one index entry by subject. */
export type IndexReads = Readonly<{ lastBySubject(subject: string): Promise<Readonly<{ data: Uint8Array }> | null>; close(): void }>;

/**
 * Reads of the index stream's entries: batched direct gets (several asked in one macrotask go out
 * as ONE request), or the leader's message get when the stream takes no direct gets (made by hand).
 */
export async function indexReads(nc: NatsConnection, indexStream: string): Promise<IndexReads> {
  const reader = new StreamReader(nc, indexStream);
  if (!(await reader.takesDirectGets())) return { lastBySubject: (subject) => reader.lastBySubject(subject), close: () => undefined };
  const gets = new DirectGets(nc);
  return { lastBySubject: (subject) => gets.lastBySubject(indexStream, subject), close: () => gets.close() };
}

/**
 * Writes index entries (pipelined core publishes, BulkPublisher) and tells whether an event's id
 * repeats one stored before.
 */
export class IndexWriter {
  private readonly subjects: IndexSubjects;

  constructor(
    private readonly bulk: BulkPublisher,
    private readonly reads: IndexReads,
    eventStream: string,
  ) {
    this.subjects = new IndexSubjects(eventStream);
  }

  /**
   * The entries of one stored event; resolves once they are stored, with true when the id is
   * (or was) held by another stored event: a repeat, whose copies must say a duplicate is possible.
   */
  record(id: string, correlationId: string, eventSeq: number): Promise<boolean> {
    return new Promise((resolve, reject) =>
      this.submit(id, correlationId, eventSeq, (err, repeated) => (err ? reject(err) : resolve(repeated))),
    );
  }

  /** record() without a promise (the router's per-event path): `done` is called once. */
  submit(id: string, correlationId: string, eventSeq: number, done: Recorded): void {
    // built from a number: no JSON.stringify per write
    const data = encoder.encode(`{"seq":${eventSeq}}`);
    const idSubject = this.subjects.byId(id);
    let left = correlationId === id ? 1 : 2;
    let repeated = false;
    let failed = false;
    const one = (err: Error | undefined, repeats = false) => {
      if (failed) return;
      if (err) {
        failed = true;
        return done(err, false);
      }
      repeated ||= repeats;
      if (--left === 0) done(undefined, repeated);
    };
    this.bulk.submit({ subject: idSubject, data, headers: FIRST_ENTRY }, (outcome) => {
      if (!(outcome instanceof Error)) return one(undefined);
      if (!isWrongLastSequence(outcome)) return one(outcome);
      this.resolveHeld(idSubject, eventSeq).then(
        (held) => one(undefined, held),
        (err: Error) => one(err),
      );
    });
    // an event inside another's flow: its correlation needs a subject of its own (see the top of the file)
    if (correlationId !== id)
      this.bulk.submit({ subject: this.subjects.correlationEntry(correlationId, eventSeq), data }, (outcome) =>
        one(outcome instanceof Error ? outcome : undefined),
      );
  }

  /**
   * What the id entry says about an event without writing it when it is there (the ordered lane,
   * which leaves indexing to the competing lane); records it when it is not there yet.
   */
  async check(id: string, correlationId: string, eventSeq: number): Promise<boolean> {
    const held = parseEntry<IdEntry>(await this.reads.lastBySubject(this.subjects.byId(id)));
    if (!held) return this.record(id, correlationId, eventSeq);
    return held.seq !== eventSeq || held.repeats !== undefined;
  }

  /**
   * The id entry exists: it is this event's (written by another lane, a one-shot catch-up, an
   * earlier delivery, an indexer before 0.3) or another event's. Another's is replaced, so the id
   * finds its newest holder and a later reader of this event learns it repeats one.
   */
  private async resolveHeld(idSubject: string, eventSeq: number): Promise<boolean> {
    const held = parseEntry<IdEntry>(await this.reads.lastBySubject(idSubject));
    if (held && held.seq === eventSeq) return held.repeats !== undefined;
    // a rare second write, only for a repeated id (or an entry that vanished between the write and the read)
    const data = encoder.encode(held ? `{"seq":${eventSeq},"repeats":${held.seq}}` : `{"seq":${eventSeq}}`);
    await this.bulk.publish({ subject: idSubject, data });
    return held !== null;
  }
}

/**
 * Store sequences of a correlation's events (any order, possibly with repeats; the caller checks
 * each event's correlation), in ONE request: a batched direct get of its entries, of the id entry
 * of the event that started it, and of the head of a legacy chain (indexes written before 0.2),
 * whose links are then walked only if there is one.
 */
export async function correlationSeqs(index: StreamReader, subjects: IndexSubjects, correlationId: string): Promise<number[]> {
  const head = subjects.byCorrelation(correlationId);
  const seqs: number[] = [];
  let legacy: ChainEntry | null = null;
  for (const m of await index.lastOfEach([subjects.correlationEntries(correlationId), head, subjects.byId(correlationId)])) {
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
