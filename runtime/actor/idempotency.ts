import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import type { ActorSettings } from "../config/types.ts";
import { toMillis } from "../config/duration.ts";
import type { Event, ReadonlyHeaders } from "../events/types.ts";
import { tokenFor } from "../events/subjects.ts";
import { Buckets, JetbusHeaders } from "../topology.ts";
import { ensureBucket } from "../nats/buckets.ts";
import type { ProcessedMarker } from "./types.ts";

/**
 * The marker key of an event: its id, or (id, replay run) for copies `jetbus replay` produced,
 * so a deliberate replay runs the handler again while a redelivery does not.
 */
export function markerKeyOf(event: Event, headers?: ReadonlyHeaders): string {
  const run = headers?.has(JetbusHeaders.Replay) ? headers.get(JetbusHeaders.Replay) : "";
  return tokenFor(run ? `${event.id}:${run}` : event.id);
}

/**
 * Processed markers of one actor (`jetbus-processed-<actor>`, entries expire after
 * idempotency.ttl). Written after the handler succeeds and before the ack.
 */
export class ProcessedMarkers {
  private constructor(private readonly kv: KV, readonly replica: string) {}

  static async open(nc: NatsConnection, actor: ActorSettings, replicas: number, replica: string): Promise<ProcessedMarkers> {
    const kv = await ensureBucket(nc, Buckets.processed(actor.name), { history: 1, ttl: toMillis(actor.idempotency.ttl), replicas });
    return new ProcessedMarkers(kv, replica);
  }

  async has(key: string): Promise<boolean> {
    const e = await this.kv.get(key);
    return e !== null && e.operation === "PUT";
  }

  async mark(key: string, attempts: number): Promise<void> {
    const value: ProcessedMarker = { at: new Date().toISOString(), attempts, replica: this.replica };
    await this.kv.put(key, JSON.stringify(value));
  }
}
