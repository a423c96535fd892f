import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import type { ActorSettings } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import { tokenFor } from "../events/subjects.ts";
import { Buckets } from "../topology.ts";
import { ensureBucket } from "../nats/buckets.ts";
import { DirectGets } from "../nats/direct.ts";
import { BulkPublisher } from "../store/bulk.ts";
import type { ProcessedMarker } from "./types.ts";

/**
 * The marker key of an event: its id, or (id, replay run) for copies `jetbus replay` produced,
 * so a deliberate replay runs the handler again while a redelivery does not.
 */
export function markerKeyOf(event: Event, replayRun?: string): string {
  return tokenFor(replayRun ? `${event.id}:${replayRun}` : event.id);
}

const encoder = new TextEncoder();

/**
 * Processed markers of one actor (`jetbus-processed-<actor>`, entries expire after
 * idempotency.ttl). Written after the handler succeeds and before the ack.
 *
 * Every delivery reads its marker, first deliveries included: a first delivery is not proof of
 * a first handling (an inbox copy published again after the inbox's duplicate window, e.g. by a
 * router redelivered after a crash, or an event stored twice; a DLQ replay of an event another
 * copy handled), and "exactly once per event" rests on that read. What is made cheap is the
 * cost of each read and write, not their number: reads are direct gets and writes core
 * publishes, each multiplexed on one reply subscription and written to the socket in batches,
 * instead of a request (inbox, timer, two Error objects) apiece through the KV client. A write
 * still resolves only with its PubAck, so the caller's ack still follows a stored marker.
 */
export class ProcessedMarkers {
  private constructor(
    private readonly kv: KV,
    readonly replica: string,
    /** Absent for a bucket that is not a plain local stream with direct gets (hand-made, mirrored): the KV client then. */
    private readonly fast?: { stream: string; prefix: string; gets: DirectGets; writes: BulkPublisher; jsm: JetStreamManager },
  ) {}

  static async open(nc: NatsConnection, actor: ActorSettings, replicas: number, replica: string): Promise<ProcessedMarkers> {
    const name = Buckets.processed(actor.name);
    const kv = await ensureBucket(nc, name, { history: 1, ttl: actor.idempotency.ttl, replicas });
    const config = (await kv.status()).streamInfo.config;
    if (!config.allow_direct || config.mirror || !config.subjects?.includes(`$KV.${name}.>`)) return new ProcessedMarkers(kv, replica);
    const fast = {
      stream: config.name,
      prefix: `$KV.${name}.`,
      gets: new DirectGets(nc),
      writes: new BulkPublisher(nc, { coalesce: true }),
      jsm: await jetstreamManager(nc),
    };
    return new ProcessedMarkers(kv, replica, fast);
  }

  async has(key: string): Promise<boolean> {
    if (!this.fast) {
      const e = await this.kv.get(key);
      return e !== null && e.operation === "PUT";
    }
    const m = await this.fast.gets.lastBySubject(this.fast.stream, this.fast.prefix + key);
    // a deleted or purged key keeps a tombstone with this header
    return m !== null && !m.header("KV-Operation");
  }

  /**
   * `has`, answered by the bucket's stream leader. A direct get may be answered by any replica,
   * and a lagging one (a node just restarted, or starved of CPU) can miss a marker stored a
   * moment ago. That moment is exactly when a redelivery comes: the handling that wrote the
   * marker lost its ack in a leader change, or outlasted its ack deadline. So redeliveries ask
   * the leader, which has every marker whose write was acknowledged; first deliveries keep the
   * cheap read (a first delivery racing a marker write needs an inbox copy published twice).
   */
  async hasOnLeader(key: string): Promise<boolean> {
    if (!this.fast) return this.has(key);
    const m = await this.fast.jsm.streams.getMessage(this.fast.stream, { last_by_subj: this.fast.prefix + key });
    return m !== null && !m.header.get("KV-Operation");
  }

  async mark(key: string, attempts: number): Promise<void> {
    const value: ProcessedMarker = { at: new Date().toISOString(), attempts, replica: this.replica };
    if (!this.fast) {
      await this.kv.put(key, JSON.stringify(value));
      return;
    }
    await this.fast.writes.publish({ subject: this.fast.prefix + key, data: encoder.encode(JSON.stringify(value)) });
  }

  /** Waits for marker writes in flight, then drops the reply subscriptions. */
  async close(): Promise<void> {
    await this.fast?.writes.close();
    this.fast?.gets.close();
  }
}
