import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import { tokenFor } from "../events/subjects.ts";
import { ensureBucket } from "../nats/buckets.ts";
import { retryTransient } from "../nats/connect.ts";
import { Buckets } from "../topology.ts";

/** A stored snapshot: the state after `version` events, the last of them at store sequence `seq`. */
export type Snapshot<S = unknown> = Readonly<{ state: S; version: number; seq: number; snapshotVersion: number }>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Snapshots of one aggregate's entities in KV `jetbus-snapshots-<aggregate>`: one key per entity
 * (base64url of its id), the latest snapshot only (history 1). A snapshot only shortens loads:
 * the events stay the source of truth (a load reads the snapshot, then the events after its
 * `seq`), so a snapshot of another version or one that does not parse is ignored.
 */
export class Snapshots {
  private kv?: Promise<KV>;

  constructor(
    private readonly nc: NatsConnection,
    readonly aggregate: string,
    private readonly replicas: number,
  ) {}

  /** The entity's snapshot of `snapshotVersion`, or undefined (none, another version, unreadable). */
  async read<S>(id: string, snapshotVersion: number): Promise<Snapshot<S> | undefined> {
    const kv = await this.open();
    const entry = await retryTransient(() => kv.get(tokenFor(id)));
    if (!entry || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    try {
      const snap = JSON.parse(decoder.decode(entry.value)) as Snapshot<S>;
      return snap.snapshotVersion === snapshotVersion && Number.isInteger(snap.seq) && Number.isInteger(snap.version) ? snap : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stores the entity's snapshot. */
  async write(id: string, snap: Snapshot): Promise<void> {
    const kv = await this.open();
    await retryTransient(() => kv.put(tokenFor(id), encoder.encode(JSON.stringify(snap))));
  }

  /** The bucket, created by the first process that uses the aggregate's snapshots (as processes create the buckets they use). */
  private open(): Promise<KV> {
    this.kv ??= ensureBucket(this.nc, Buckets.snapshots(this.aggregate), { history: 1, replicas: this.replicas }).catch((err: unknown) => {
      this.kv = undefined;
      throw err;
    });
    return this.kv;
  }
}
