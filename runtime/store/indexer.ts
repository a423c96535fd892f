import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { StoreSettings } from "../config/types.ts";
import { decodeEvent } from "../events/codec.ts";
import { TimeoutError } from "../errors.ts";
import { createLogger, type Logger } from "../log.ts";
import { readBounded } from "../nats/bounded-read.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { Metrics } from "../observability/metrics.ts";
import { Consumers, indexStreamFor, Subjects } from "../topology.ts";
import { BulkPublisher } from "./bulk.ts";
import { IndexWriter, indexReads, parseEntry, type IdEntry } from "./index-entries.ts";
import { wireOf } from "./reader.ts";
import { ensureStore, StoreAccess } from "./stream.ts";
import type { IndexStatus } from "./types.ts";

/** Index writes in flight at most during a one-shot catch-up (the publisher's window bounds the socket; this bounds memory). */
const CATCH_UP_IN_FLIGHT = 4096;

export type IndexerOptions = Readonly<{
  logger?: Logger;
  metrics?: Metrics;
  /** May a catch-up create a missing store stream (a missing index of a hand-made store: `trace`) or only use them (the CLI's store commands)? Create by default. */
  storeAccess?: StoreAccess;
}>;

/**
 * The id and correlation indexes outside the router. Routers index every event they route, on
 * the same delivery (durable `jetbus-router`, before its ack), so the router's ack floor is where
 * the indexes stand. This class reads that position (`status`, `lag`), and brings the indexes up
 * to date without a router (`catchUp`: a one-shot read of the events after it, for the CLI's
 * read-your-writes and `index rebuild`), remembering how far it got in `index.<stream>.through`.
 * Indexers before 0.3 had a durable of their own (`jetbus-indexer`): while it exists (a
 * deployment not upgraded yet; routers delete it, see retireLegacyIndexer) its ack floor counts.
 *
 * Any decodable message is indexed, whoever published it. A message that does not decode is
 * logged, counted (metrics.malformed) and skipped: it stays readable with `EventStore.getRaw(seq)`.
 */
export class Indexer {
  private readonly logger: Logger;
  readonly metrics: Metrics;
  private readonly indexStream: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: StoreSettings,
    private readonly opts: IndexerOptions = {},
  ) {
    this.logger = opts.logger ?? createLogger({ level: "silent" });
    this.metrics = opts.metrics ?? new Metrics();
    this.indexStream = indexStreamFor(store.stream);
  }

  private jsm(): Promise<JetStreamManager> {
    return jetstreamManager(this.nc, { checkAPI: false });
  }

  /** Where the indexes stand (also sets the consumerPending gauge of the router durable). */
  async status(): Promise<IndexStatus> {
    const jsm = await this.jsm();
    const [router, legacy, events, index] = await Promise.all([
      retryTransient(() => orMissing(() => jsm.consumers.info(this.store.stream, Consumers.router))),
      retryTransient(() => orMissing(() => jsm.consumers.info(this.store.stream, Consumers.indexer))),
      retryTransient(() => jsm.streams.info(this.store.stream)),
      retryTransient(() => orMissing(() => jsm.streams.info(this.indexStream))),
    ]);
    const through = index ? await this.caughtUpThrough(jsm, index.config.allow_direct === true) : 0;
    // a durable before 0.3 still indexing (not upgraded yet) is the position; else the routers'
    const durable: ConsumerInfo | null = legacy ?? router;
    const floor = durable?.ack_floor.stream_seq ?? 0;
    const lastSeq = events.state.last_seq;
    const indexedThrough = Math.min(lastSeq, Math.max(floor, through));
    const fromDurable = durable !== null && floor >= through;
    const pending = fromDurable ? durable.num_pending : Math.max(0, lastSeq - indexedThrough);
    const ackPending = fromDurable ? durable.num_ack_pending : 0;
    if (router) this.metrics.consumerPending.set({ consumer: Consumers.router }, router.num_pending + router.num_ack_pending);
    return { pending, ackPending, indexedThrough, lastSeq, indexEntries: index?.state.messages ?? 0 };
  }

  /** How far one-shot catch-ups got: every event up to it is indexed. */
  private async caughtUpThrough(jsm: JetStreamManager, direct: boolean): Promise<number> {
    const q = { last_by_subj: this.throughSubject };
    const m = await retryTransient(() =>
      orMissing(() => (direct ? jsm.direct.getMessage(this.indexStream, q) : jsm.streams.getMessage(this.indexStream, q))),
    );
    return parseEntry<IdEntry>(m)?.seq ?? 0;
  }

  private get throughSubject(): string {
    return Subjects.indexThrough(this.store.stream);
  }

  /** Does a process pull the durable that indexes right now (a router, or an indexer before 0.3)? */
  async othersRunning(): Promise<boolean> {
    const jsm = await this.jsm();
    const [router, legacy] = await Promise.all([
      orMissing(() => jsm.consumers.info(this.store.stream, Consumers.router)).catch(() => null),
      orMissing(() => jsm.consumers.info(this.store.stream, Consumers.indexer)).catch(() => null),
    ]);
    return ((legacy ?? router)?.num_waiting ?? 0) > 0;
  }

  /** Waits (without indexing) until the lag is 0. */
  async waitCaughtUp(timeoutMs = 60_000): Promise<IndexStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      if (s.pending === 0 && s.ackPending === 0) return s;
      if (Date.now() > deadline) throw new TimeoutError(`index still ${s.pending + s.ackPending} events behind after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Events not yet indexed: delivered-but-unacked plus not yet delivered. */
  async lag(): Promise<number> {
    const s = await this.status();
    return s.pending + s.ackPending;
  }

  /**
   * Returns once every event stored so far is indexed (the CLI's read-your-writes). With a router
   * running it waits for it; without one it indexes the events after the current position itself,
   * one bounded read, and remembers the new position.
   */
  async catchUp(opts: { timeoutMs?: number; onProgress?: (s: IndexStatus) => void } = {}): Promise<IndexStatus> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    if (await this.othersRunning()) return this.waitCaughtUp(timeoutMs);
    const s = await this.status();
    opts.onProgress?.(s);
    if (s.indexedThrough >= s.lastSeq) return s;
    await this.indexRange(s.indexedThrough + 1, s.lastSeq, { timeoutMs });
    const done = await this.status();
    opts.onProgress?.(done);
    return done;
  }

  /**
   * Indexes the stored events from `from` to `to` in stream order (one bounded read, writes
   * pipelined) and records `to` as caught up with. Streams as they are unless `storeAccess` says create.
   */
  async indexRange(
    from: number,
    to: number,
    o: { timeoutMs?: number; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<void> {
    await ensureStore(await this.jsm(), this.store, this.opts.storeAccess ?? StoreAccess.Create);
    const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
    const bulk = new BulkPublisher(this.nc, { window: 2048, coalesce: true });
    const reads = await indexReads(this.nc, this.indexStream);
    const writer = new IndexWriter(bulk, reads, this.store.stream);
    const total = Math.max(0, to - from + 1);
    let open: Promise<unknown>[] = [];
    let done = 0;
    try {
      for await (const m of readBounded(this.nc, this.store.stream, { fromSeq: from, toSeq: to, batch: 1000 })) {
        if (Date.now() > deadline) throw new TimeoutError(`index catch-up still at seq ${m.seq} of ${to} after ${o.timeoutMs} ms`);
        let event;
        try {
          event = decodeEvent(wireOf(m, this.store.stream), { maxBytes: Number.MAX_SAFE_INTEGER }).event;
        } catch (err) {
          this.malformed(m.seq, m.subject, err);
          continue;
        }
        open.push(writer.record(event.id, event.correlationid, m.seq).then(() => this.metrics.indexed.inc()));
        if (open.length >= CATCH_UP_IN_FLIGHT) {
          await Promise.all(open);
          done += open.length;
          open = [];
          o.onProgress?.(Math.min(done, total), total);
        }
      }
      await Promise.all(open);
      await bulk.publish({ subject: this.throughSubject, data: new TextEncoder().encode(`{"seq":${to}}`) });
      o.onProgress?.(total, total);
    } finally {
      await bulk.close();
      reads.close();
    }
  }

  private malformed(seq: number, subject: string, err: unknown): void {
    this.metrics.malformed.inc({ component: "indexer" });
    this.logger.warn(
      { seq, subject, err: (err as Error).message },
      "skipping a stored message that is not a valid event (still readable raw)",
    );
  }
}

/**
 * A deployment upgraded from before 0.3 still has the indexer's own durable. Routers index every
 * event they route now, so it only adds lag that nothing drains: the first router that indexes
 * indexes what the old indexer had not reached among the events the routers already acked (its
 * ack floor up to theirs), then deletes the durable. An old indexer process still running logs
 * that its consumer is gone; several routers doing this at once write the same entries.
 */
export async function retireLegacyIndexer(nc: NatsConnection, store: StoreSettings, logger: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const legacy = await retryTransient(() => orMissing(() => jsm.consumers.info(store.stream, Consumers.indexer)));
  if (!legacy) return;
  const router = await retryTransient(() => orMissing(() => jsm.consumers.info(store.stream, Consumers.router)));
  const from = legacy.ack_floor.stream_seq + 1;
  const to = router?.ack_floor.stream_seq ?? 0;
  if (from <= to) await new Indexer(nc, store, { logger }).indexRange(from, to);
  await retryTransient(() => orMissing(() => jsm.consumers.delete(store.stream, Consumers.indexer)));
  logger.info(
    { durable: Consumers.indexer, indexed: Math.max(0, to - from + 1) },
    "removed the indexer durable of jetbus before 0.3: routers index now",
  );
}
