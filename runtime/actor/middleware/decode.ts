import { Header } from "../../events/codec.ts";
import { headerOf } from "../../events/headers.ts";
import { Streams } from "../../topology.ts";
import { isDecoded } from "./handling.ts";
import type { Decoded, Delivered, Outcome, Policy } from "./types.ts";

/** The event id a failure is reported under, also for a message that does not decode. */
export function eventIdOf(h: Delivered): string {
  const e = h.event;
  if (e) return e.id;
  return headerOf(h.wire, Header.Id) || headerOf(h.wire, Header.MsgId) || `${Streams.Inbox}-${h.msg.seq}`;
}

/**
 * Decode: the rest of the chain sees the event (the Decoded stage). No attempt can make an
 * undecodable message decodable, so one goes to the dead letters at once instead of through the retries.
 */
export function decode(): Policy<Delivered, Decoded> {
  return (next) => (h) => {
    if (isDecoded(h)) return next(h);
    return Promise.resolve<Outcome>({ kind: "dead-letter", attempts: h.attempt, error: h.decodeError, reason: "undecodable" });
  };
}
