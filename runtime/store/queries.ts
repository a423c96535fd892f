import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEvent } from "../events/codec.ts";
import { subjectForType } from "../events/subjects.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { createLogger, type Logger } from "../log.ts";
import { Metrics } from "../observability/metrics.ts";
import { indexStreamFor } from "../topology.ts";
import { correlationSeqs, IndexSubjects, parseEntry, type IdEntry } from "./index-entries.ts";
import { StreamReader, wireOf, type ReadMessage } from "./reader.ts";
import { EVENT_SUBJECTS } from "./stream.ts";
import type { HistoryFilter, RawStoredMessage, StoredEvent, TypeQuery } from "./types.ts";

export type EventStoreOptions = Readonly<{ stream?: string; logger?: Logger; metrics?: Metrics }>;

export const DEFAULT_PAGE = 100;
/** Messages per request of a history read (one batched direct get each). */
const HISTORY_BATCH = 256;

/**
 * Reads of the event store. By type and by time: bounded reads of the event stream (batched direct
 * gets of the next messages on the type's subject, from a sequence or a time: one request per
 * page of up to 256). By id and by correlation: the indexes (direct gets, never a scan). Index
 * entries whose event is gone (retention) are skipped; stored messages that do not decode are
 * logged, counted and skipped, and stay readable with `getRaw`.
 *
 * The indexes trail the stream by the router's lag: an event is found by id once a router (or a
 * one-shot catch-up, `Indexer.catchUp()`) has indexed it.
 */
export class EventStore {
  readonly stream: string;
  private readonly events: StreamReader;
  private readonly index: StreamReader;
  private readonly subjects: IndexSubjects;
  private readonly logger: Logger;
  private readonly metrics: Metrics;

  constructor(nc: NatsConnection, opts: EventStoreOptions = {}) {
    this.stream = opts.stream ?? "EVENTS";
    this.events = new StreamReader(nc, this.stream);
    this.index = new StreamReader(nc, indexStreamFor(this.stream));
    this.subjects = new IndexSubjects(this.stream);
    this.logger = opts.logger ?? createLogger({ level: "silent" });
    this.metrics = opts.metrics ?? new Metrics();
  }

  /** The event with this id; NotFoundError when the store does not hold it (never stored, or past retention). */
  async getById(id: string): Promise<StoredEvent> {
    const found = await this.findById(id);
    if (!found) throw new NotFoundError(`event ${id} not found`);
    return found;
  }

  async findById(id: string): Promise<StoredEvent | undefined> {
    const entry = parseEntry<IdEntry>(await this.index.lastBySubject(this.subjects.byId(id)));
    if (!entry) return undefined;
    const stored = await this.getBySeq(entry.seq);
    // the entry outlived its event, or the seq now holds something else: never serve it
    return stored && stored.event.id === id ? stored : undefined;
  }

  /** The event at a store sequence, or undefined when it is gone or does not decode. */
  async getBySeq(seq: number): Promise<StoredEvent | undefined> {
    const m = await this.events.bySeq(seq);
    return m ? this.decode(m) : undefined;
  }

  /** A stored message as bytes and headers, whether or not it decodes as an event. */
  async getRaw(seq: number): Promise<RawStoredMessage> {
    const m = await this.events.bySeq(seq);
    if (!m) throw new NotFoundError(`no message at sequence ${seq} in ${this.stream}`);
    const headers: Record<string, string> = {};
    for (const k of m.headers?.keys() ?? []) if (!k.startsWith("Nats-") || k === "Nats-Msg-Id") headers[k] = m.headers!.get(k);
    return { seq: m.seq, subject: m.subject, time: m.time, headers, data: m.data };
  }

  /** One page of events of a type, in stream order; pass `from: last.seq + 1` for the next page. */
  async getByType(type: string, q: TypeQuery = {}): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for await (const e of this.history({ type, fromSeq: q.from, since: q.since, until: q.until, limit: q.limit ?? DEFAULT_PAGE }))
      out.push(e);
    return out;
  }

  /** Every event of a correlation still held, in stream order. */
  async getByCorrelationId(correlationId: string, q: { since?: Date; until?: Date; type?: string } = {}): Promise<StoredEvent[]> {
    const ordered = [...new Set(await correlationSeqs(this.index, this.subjects, correlationId))].sort((a, b) => a - b);
    const found = await Promise.all(ordered.map((s) => this.getBySeq(s)));
    return found.filter((e): e is StoredEvent => e !== undefined && e.event.correlationid === correlationId && matches(e, q));
  }

  /**
   * History for replay, streamed in stream order: by correlation (from the index), else by type
   * and/or time range (a filtered consumer read in batches). Nothing is held beyond one batch.
   */
  async *history(f: HistoryFilter = {}): AsyncGenerator<StoredEvent> {
    if (f.since && f.until && f.since > f.until)
      throw new UsageError(`--since (${f.since.toISOString()}) is after --until (${f.until.toISOString()})`);
    const limit = f.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return;
    let n = 0;
    if (f.correlationId !== undefined) {
      for (const e of await this.getByCorrelationId(f.correlationId, f)) {
        if (f.fromSeq && e.seq < f.fromSeq) continue;
        yield e;
        if (++n >= limit) return;
      }
      return;
    }
    const subject = f.type ? subjectForType(f.type) : undefined;
    const batch = Math.min(HISTORY_BATCH, limit);
    const messages = this.events.read({ filter: subject ?? EVENT_SUBJECTS, fromSeq: f.fromSeq, since: f.since, batch });
    for await (const m of messages) {
      if (f.until && m.time > f.until) return;
      // a start sequence wins over a start time: the time still filters
      if (f.since && m.time < f.since) continue;
      const e = this.decode(m);
      if (!e) continue;
      yield e;
      if (++n >= limit) return;
    }
  }

  private decode(m: ReadMessage): StoredEvent | undefined {
    try {
      const { event } = decodeEvent(wireOf(m, this.stream), { maxBytes: Number.MAX_SAFE_INTEGER });
      return { event, seq: m.seq, subject: m.subject, time: m.time };
    } catch (err) {
      this.metrics.malformed.inc({ component: "store" });
      this.logger.warn(
        { seq: m.seq, subject: m.subject, err: (err as Error).message },
        "skipping a stored message that is not a valid event (read it with getRaw)",
      );
      return undefined;
    }
  }
}

function matches(e: StoredEvent, q: { since?: Date; until?: Date; type?: string }): boolean {
  if (q.since && e.time < q.since) return false;
  if (q.until && e.time > q.until) return false;
  if (q.type && e.event.type !== q.type) return false;
  return true;
}
