import { decodeEvent, Header } from "../../events/codec.ts";
import { headerOf } from "../../events/headers.ts";
import type { WireMessage } from "../../events/types.ts";
import { upcast } from "../../events/versions/upcast.ts";
import { Delivery } from "../../nats/delivered.ts";
import { Streams } from "../../topology.ts";
import type { Handling, Policy } from "./types.ts";

/** The delivery as the codec reads it, made once per handling. */
export function wireOf(h: Handling): WireMessage {
  // the inbox, or the event store for a direct actor
  h.wire ??= new Delivery(h.msg);
  return h.wire;
}

/**
 * Decodes the delivery's event once (early while it waits for a slot, or in the chain); never
 * throws. An event older than its type's latest version reaches the handler upcast (events/versions).
 */
export function decodeHandling(h: Handling): void {
  if (h.event || h.decodeError !== undefined) return;
  try {
    h.event = upcast(decodeEvent(wireOf(h)).event);
  } catch (err) {
    h.decodeError = err ?? new Error("undecodable message");
  }
}

/** The event id a failure is reported under, also for a message that does not decode. */
export function eventIdOf(h: Handling): string {
  if (h.event) return h.event.id;
  const wire = wireOf(h);
  return headerOf(wire, Header.Id) || headerOf(wire, Header.MsgId) || `${Streams.Inbox}-${h.msg.seq}`;
}

/**
 * Decode: the rest of the chain sees the event. No attempt can make an undecodable message
 * decodable, so one goes to the dead letters at once instead of through the retries.
 */
export function decode(): Policy {
  return (next) => (h) => {
    decodeHandling(h);
    if (!h.event) return Promise.resolve({ kind: "dead-letter", attempts: h.attempt, error: h.decodeError, reason: "undecodable" });
    return next(h);
  };
}
