import type { Logger } from "../../log.ts";
import { headerOf } from "../../events/headers.ts";
import { retryTransient } from "../../nats/connect.ts";
import { JetbusHeaders } from "../../topology.ts";
import { markerKeyOf } from "../idempotency.ts";
import { errorMessageOf } from "../retry.ts";
import { wireOf } from "./decode.ts";
import type { Handling, Outcome, Policy } from "./types.ts";

/** What the idempotency policy needs of a marker bucket (ProcessedMarkers). */
export type MarkerStore = Readonly<{
  has(key: string): Promise<boolean>;
  hasOnLeader(key: string): Promise<boolean>;
  mark(key: string, attempts: number): Promise<void>;
}>;

export type IdempotencyOptions = Readonly<{
  logger: Logger;
  /** Delay before a delivery whose marker could not be read comes back. */
  readRetryDelayMs: number;
  /** How long a marker write is retried through a leader election before the ack goes without it. */
  writeRetryMs: number;
}>;

/**
 * The marker key of a decoded delivery and, with `readNow`, its read already on its way (a
 * delivery waiting for a slot asks early, so the answer is there when the slot frees).
 * Redeliveries read from the bucket's leader, when their slot comes (see ProcessedMarkers.hasOnLeader).
 */
export function primeMarker(markers: MarkerStore, h: Handling, readNow: boolean): void {
  if (!h.event || h.markerKey !== undefined) return;
  h.markerKey = markerKeyOf(h.event, headerOf(wireOf(h), JetbusHeaders.Replay));
  if (h.attempt > 1) h.askLeader = true;
  else if (readNow) {
    h.markerSeen = markers.has(h.markerKey);
    h.markerSeen.catch(() => undefined); // read in the chain, or dropped with the delivery at shutdown
  }
}

/**
 * Idempotency: a delivery whose processed marker exists is acked without the handler; after the
 * handler succeeds, the marker is written before the ack (see the exact guarantee in docs/concepts/actors.md).
 */
export function idempotency(markers: MarkerStore, o: IdempotencyOptions): Policy {
  const duplicate: Outcome = { kind: "ack", result: "duplicate" };
  const readFailed: Outcome = { kind: "nak", delayMs: o.readRetryDelayMs };
  return (next) => async (h) => {
    primeMarker(markers, h, false);
    const key = h.markerKey!;
    let seen: boolean;
    try {
      seen = await (h.markerSeen ?? (h.askLeader ? markers.hasOnLeader(key) : markers.has(key)));
    } catch (err) {
      o.logger.warn({ eventId: h.event?.id, err: errorMessageOf(err) }, "cannot read the processed marker; retrying later");
      return readFailed;
    }
    if (seen) return duplicate;
    const out = await next(h);
    if (out.kind !== "ack" || out.result !== "handled") return out;
    try {
      // a leader election of the marker bucket fails the put for a few seconds; the ack sent
      // next may be lost in the same election, and a redelivery without a marker runs twice
      await retryTransient(() => markers.mark(key, h.attempt), { timeoutMs: o.writeRetryMs });
    } catch (err) {
      // the ack still prevents redelivery; only a redelivery racing it could run twice
      o.logger.warn({ eventId: h.event?.id, err: errorMessageOf(err) }, "processed marker not written");
    }
    return out;
  };
}
