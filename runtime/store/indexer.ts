import { jetstream, jetstreamManager, type Consumer, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { StoreSettings } from "../config/types.ts";
import { decodeEvent } from "../events/codec.ts";
import { TimeoutError } from "../errors.ts";
import { createLogger, type Logger } from "../log.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { Metrics } from "../observability/metrics.ts";
import { Consumers, indexStreamFor } from "../topology.ts";
import { AckBatcher } from "../consumer/acks.ts";
import { ConsumerRunner } from "../consumer/runner.ts";
import { BulkPublisher } from "./bulk.ts";
import { IndexWriter } from "./index-entries.ts";
import { ensureIndexerConsumer } from "./indexer-consumer.ts";

export { ensureIndexerConsumer } from "./indexer-consumer.ts";
import { Delivery } from "../nats/delivered.ts";
import { ensureStore, StoreAccess } from "./stream.ts";
import type { IndexStatus } from "./types.ts";

/**
 * Events the running indexer has in flight at most. More is slower: with 4,096 (the durable's
 * max_ack_pending) and pulls of 1,024, the pipeline bench's indexer cost the router process
 * 115-137 us of CPU per event and the server 102-124 us (each in-flight event's objects outlive
 * young-generation collections: 144 scavenges of 10-15 ms per 50k events); with 256 and pulls of
 * 128, 91-101 us and 89-105 us (nats-server 2.15.1, two runs each, machine under load).
 */
const INDEXER_IN_FLIGHT = 256;

export type IndexerOptions = Readonly<{
  logger?: Logger;
  metrics?: Metrics;
  /** Events delivered but not yet acked, across the durable (bounds memory and in-flight writes). */
  maxAckPending?: number;
  /** How often the lag gauge is refreshed while running. */
  lagEveryMs?: number;
  /** May it create a missing store (`up`, `router`) or only use one (one-shot commands)? Create by default. */
  storeAccess?: StoreAccess;
}>;

/**
 * The indexer actor: consumes the event stream durably (`jetbus-indexer`) and writes the id
 * and correlation indexes. Any decodable message is indexed, whoever published it (SDK,
 * `nats pub` raw bytes, structured CloudEvents). A message that does not decode is logged,
 * counted (metrics.malformed) and acked: it must not block the events behind it, and it stays
 * in the store, readable with `EventStore.getRaw(seq)`.
 */
export class Indexer {
  private readonly logger: Logger;
  readonly metrics: Metrics;
  private readonly indexStream: string;
  private bulk?: BulkPublisher;
  /** The durable's max_ack_pending as the server has it (another process may have created it). */
  private maxAckPending = 1;
  private writer?: IndexWriter;
  private runner?: ConsumerRunner;
  private lagTimer?: NodeJS.Timeout;
  private inFlight = 0;
  /** Acks of the bounded pulls of catchUp (the runner batches its own). */
  private readonly acks = new AckBatcher();

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: StoreSettings,
    private readonly opts: IndexerOptions = {},
  ) {
    this.logger = opts.logger ?? createLogger({ level: "silent" });
    this.metrics = opts.metrics ?? new Metrics();
    this.indexStream = indexStreamFor(store.stream);
  }

  get running(): boolean {
    return this.runner !== undefined;
  }

  async start(): Promise<void> {
    if (this.runner) return;
    await this.prepare();
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: this.nc,
      stream: this.store.stream,
      durables: [Consumers.indexer],
      concurrency: Math.min(this.maxAckPending, INDEXER_IN_FLIGHT),
      pullBatch: INDEXER_IN_FLIGHT / 2,
      logger: this.logger,
      handle: (m): Promise<void> => this.handle(m, runner),
    });
    this.runner = runner;
    try {
      await runner.start();
    } catch (err) {
      this.runner = undefined;
      await this.release();
      throw err;
    }
    this.lagTimer = setInterval(() => void this.lag().catch(() => undefined), this.opts.lagEveryMs ?? 5000);
    this.lagTimer.unref();
    this.logger.info({ stream: this.store.stream, index: this.indexStream }, "indexer started");
  }

  /**
   * Stops pulling, lets the events already being indexed finish (up to 30 s), then releases the
   * publisher. Not past `cutShort` (the connection is gone): unfinished events come back after ack_wait.
   */
  async stop(cutShort?: Promise<unknown>): Promise<void> {
    if (!this.runner) return;
    clearInterval(this.lagTimer);
    await this.runner.stop(30_000, undefined, cutShort);
    this.runner = undefined;
    await this.release(cutShort);
  }

  /** Streams, durable and the index writer: what both running modes need. */
  private async prepare(): Promise<Consumer> {
    const jsm = await jetstreamManager(this.nc, { checkAPI: false });
    await ensureStore(jsm, this.store, this.opts.storeAccess ?? StoreAccess.Create);
    const ci = await ensureIndexerConsumer(jsm, this.store, this.opts.maxAckPending);
    this.maxAckPending = ci.config.max_ack_pending && ci.config.max_ack_pending > 0 ? ci.config.max_ack_pending : 4096;
    const consumer = await jetstream(this.nc).consumers.get(this.store.stream, Consumers.indexer);
    this.bulk = new BulkPublisher(this.nc, { window: 2048, coalesce: true });
    this.writer = new IndexWriter(this.bulk, this.store.stream);
    return consumer;
  }

  private async release(cutShort?: Promise<unknown>): Promise<void> {
    const bulk = this.bulk;
    this.bulk = undefined;
    await bulk?.close(cutShort);
  }

  /** Where the indexer stands (also sets the consumerPending gauge). */
  async status(): Promise<IndexStatus> {
    const jsm = await jetstreamManager(this.nc, { checkAPI: false });
    const [ci, events, index] = await Promise.all([
      retryTransient(() => orMissing(() => jsm.consumers.info(this.store.stream, Consumers.indexer))),
      retryTransient(() => jsm.streams.info(this.store.stream)),
      retryTransient(() => orMissing(() => jsm.streams.info(this.indexStream))),
    ]);
    const pending = ci ? ci.num_pending : events.state.messages;
    this.metrics.consumerPending.set({ consumer: Consumers.indexer }, pending + (ci?.num_ack_pending ?? 0));
    return {
      pending,
      ackPending: ci?.num_ack_pending ?? 0,
      indexedThrough: ci?.ack_floor.stream_seq ?? 0,
      lastSeq: events.state.last_seq,
      indexEntries: index?.state.messages ?? 0,
    };
  }

  /** Does another process pull from the indexer's durable right now (its pull requests wait on the server)? */
  async othersRunning(): Promise<boolean> {
    const jsm = await jetstreamManager(this.nc, { checkAPI: false });
    const ci = await retryTransient(() => jsm.consumers.info(this.store.stream, Consumers.indexer)).catch(() => null);
    return !this.running && (ci?.num_waiting ?? 0) > 0;
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
   * Returns once every event stored so far is indexed (the CLI's read-your-writes, and
   * rebuilds). When the indexer is not running it pulls exactly the pending count in bounded
   * fetches rather than starting a long-lived consume, so a one-shot command leaves no pull
   * request behind on the server to swallow the next events.
   */
  async catchUp(opts: { timeoutMs?: number; onProgress?: (s: IndexStatus) => void } = {}): Promise<IndexStatus> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const consumer = this.running ? undefined : await this.prepare();
    try {
      for (;;) {
        const s = await this.status();
        opts.onProgress?.(s);
        if (s.pending === 0 && s.ackPending === 0 && this.inFlight === 0) return s;
        if (Date.now() > deadline) throw new TimeoutError(`index still ${s.pending + s.ackPending} events behind after ${timeoutMs} ms`);
        if (consumer && s.pending > 0) {
          await this.pull(consumer, s.pending);
        } else {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      if (consumer) await this.release();
    }
  }

  /**
   * Fetches `count` events in batches and indexes them, fetching the next batch while the
   * writes of the earlier ones are still in flight (waiting for each batch's writes before the
   * next fetch left the pipeline empty once per batch). The batches in flight stay within the
   * durable's max_ack_pending, past which the server would hold a fetch until acks arrive.
   */
  private async pull(consumer: Consumer, count: number): Promise<void> {
    const size = Math.min(1024, this.maxAckPending);
    const maxBatches = Math.max(1, Math.floor(this.maxAckPending / size));
    const open: Promise<unknown>[] = [];
    let remaining = count;
    try {
      while (remaining > 0) {
        if (open.length >= maxBatches) await open.shift();
        const batch = await consumer.fetch({ max_messages: Math.min(remaining, size), expires: 2000 });
        const writes: Promise<void>[] = [];
        for await (const m of batch) writes.push(this.handle(m, this.acks));
        // retention removed what status() counted: let the caller look again
        if (writes.length === 0) break;
        remaining -= writes.length;
        open.push(Promise.all(writes));
      }
    } finally {
      await Promise.all(open);
    }
  }

  /** Indexes one delivery; the promise settles (never rejects) once it is acked or nak'ed. */
  private handle(m: JsMsg, settle: { ack(m: JsMsg): void }): Promise<void> {
    let event;
    try {
      event = decodeEvent(new Delivery(m, this.store.stream), { maxBytes: Number.MAX_SAFE_INTEGER }).event;
    } catch (err) {
      this.metrics.malformed.inc({ component: "indexer" });
      this.logger.warn(
        { seq: m.seq, subject: m.subject, err: (err as Error).message },
        "skipping a stored message that is not a valid event (still readable raw)",
      );
      settle.ack(m);
      return Promise.resolve();
    }
    this.inFlight++;
    return this.writer!.write(event.id, event.correlationid, m.seq)
      .then(() => {
        settle.ack(m);
        this.metrics.indexed.inc();
      })
      .catch((err) => {
        this.logger.warn({ seq: m.seq, err: (err as Error).message }, "index write failed; the event will be redelivered");
        m.nak(1000);
      })
      .finally(() => this.inFlight--);
  }
}
