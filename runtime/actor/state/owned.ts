import { tokenFor } from "../../events/subjects.ts";
import type { DeliveredBy } from "../context.ts";
import type { PendingMarker, StateRead } from "./store.ts";

/** A key's state as this worker last committed or read it. */
export type Owned = Readonly<{
  revision: number;
  /** The state as stored (JSON); undefined when the key holds none (never written, or deleted). */
  text: string | undefined;
  /** The marker of the handling that wrote this revision, when only the state message holds it. */
  pending: PendingMarker | undefined;
  /** The durable (ordered partition) its events come through, and that durable's run of deliveries here it is good for. */
  consumer: string;
  epoch: number;
}>;

/**
 * The states of the keys this worker owns, in memory. A key's events come through one ordered
 * partition, one at a time: while a partition's deliveries reach this worker in a row (each
 * delivery sequence the one after the last seen here), no other worker handled one of its events
 * in between, so no one else wrote its keys' states. A gap in the sequence (a delivery that went
 * to another replica, or one this worker did not hand to the state) starts a new run: the keys of
 * that partition are read again on their next touch. This only saves reads; the commit's revision
 * guard is what keeps a stale state from being written. At most `capacity` keys, least recently
 * used dropped first.
 */
export class OwnedStates {
  private readonly entries = new Map<string, Owned>();
  private readonly lastSeen = new Map<string, number>();
  private readonly runs = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** Records a delivery (once per delivery, before `get`). */
  observe(by: DeliveredBy | undefined): void {
    if (!by) return;
    const last = this.lastSeen.get(by.consumer);
    if (last === undefined || by.deliverySequence !== last + 1) this.runs.set(by.consumer, (this.runs.get(by.consumer) ?? 0) + 1);
    this.lastSeen.set(by.consumer, by.deliverySequence);
  }

  /** The key's state if it can be trusted for this delivery (none for a ctx made elsewhere). */
  get(key: string, by: DeliveredBy | undefined): Owned | undefined {
    if (!by) return undefined;
    const e = this.entries.get(key);
    if (!e || e.consumer !== by.consumer || e.epoch !== this.runs.get(by.consumer)) return undefined;
    // most recently used last
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  /** Keeps what the bucket answered. */
  fromRead(key: string, read: StateRead, by: DeliveredBy | undefined): Owned {
    const w = read.writtenBy;
    const e: Owned = {
      revision: read.revision,
      text: read.exists ? read.text : undefined,
      pending: w?.marker ? { eventToken: tokenFor(w.eventId), marker: w.marker } : undefined,
      consumer: by?.consumer ?? "",
      epoch: by ? (this.runs.get(by.consumer) ?? 0) : -1,
    };
    this.put(key, e);
    return e;
  }

  /** Keeps a state this worker committed (revision 0: the server did not say which; read it again next time). */
  committed(key: string, before: Owned, revision: number, text: string | undefined, pending: PendingMarker): void {
    if (revision === 0) return this.forget(key);
    this.put(key, { ...before, revision, text, pending });
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private put(key: string, e: Owned): void {
    this.entries.delete(key);
    this.entries.set(key, e);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
