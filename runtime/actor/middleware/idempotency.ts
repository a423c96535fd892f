import type { Logger } from "../../log.ts";
import { retryTransient } from "../../nats/connect.ts";
import { isTransient } from "../../nats/errors.ts";
import { markerKeyOf } from "../idempotency.ts";
import { errorMessageOf } from "../retry.ts";
import type { Outcome, Policy, Screened } from "./types.ts";

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

/** The marker key of a delivery: its event id, or (id, run) for a `jetbus replay` copy. */
function keyOf(h: Screened): string {
  return markerKeyOf(h.event, h.copy.replay);
}

/**
 * Idempotency: where a duplicate is possible (see screen), a delivery whose processed marker
 * exists is acked without the handler; every other delivery goes straight on, without a read.
 * After the handler succeeds the marker is written, off the concurrency slot and before the ack,
 * so a later copy that may be a duplicate finds it (see the exact guarantee in docs/concepts/actors.md).
 */
export function idempotency(markers: MarkerStore, o: IdempotencyOptions): Policy<Screened> {
  const duplicate: Outcome = { kind: "ack", result: "duplicate" };
  const readFailed: Outcome = { kind: "nak", delayMs: o.readRetryDelayMs };
  const writeRetry = async (h: Screened, key: string, first: unknown): Promise<void> => {
    try {
      if (!isTransient(first)) throw first;
      await retryTransient(() => markers.mark(key, h.attempt), { timeoutMs: o.writeRetryMs });
    } catch (err) {
      // the ack still prevents redelivery; only a redelivery racing it could run twice
      o.logger.warn({ eventId: h.event.id, err: errorMessageOf(err) }, "processed marker not written");
    }
  };
  // a leader election of the marker bucket fails the put for a few seconds; the ack sent next may
  // be lost in the same election, and a redelivery without a marker runs twice: retried
  const written = (h: Screened, out: Outcome): Outcome | Promise<Outcome> => {
    if (out.kind !== "ack" || out.result !== "handled") return out;
    const key = keyOf(h);
    return markers.mark(key, h.attempt).then(
      () => out,
      (err: unknown) => writeRetry(h, key, err).then(() => out),
    );
  };
  const checked = async (h: Screened, next: (h: Screened) => Promise<Outcome>): Promise<Outcome> => {
    const key = keyOf(h);
    let seen: boolean;
    try {
      seen = await (h.askLeader ? markers.hasOnLeader(key) : markers.has(key));
    } catch (err) {
      o.logger.warn({ eventId: h.event.id, err: errorMessageOf(err) }, "cannot read the processed marker; retrying later");
      return readFailed;
    }
    if (seen) return duplicate;
    return written(h, await next(h));
  };
  return (next) => (h) => (h.duplicatePossible ? checked(h, next) : next(h).then((out) => written(h, out)));
}
