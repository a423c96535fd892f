import { Header } from "../../events/codec.ts";
import { headerOf } from "../../events/headers.ts";
import { Streams } from "../../topology.ts";
import type { Decoded, Policy, Screened, Screening } from "./types.ts";

const FIRST: Screening = { duplicatePossible: false, askLeader: false };
const POSSIBLE: Screening = { duplicatePossible: true, askLeader: false };
const ASK_LEADER: Screening = { duplicatePossible: true, askLeader: true };

/**
 * How far a direct actor trusts the producer's clock: a store message whose `ce-time` is more
 * than this before the server's own stamp, counted from the end of the duplicate window, or this
 * far after the stamp, is treated as a possible second storing. 30 s, or a quarter of a short window.
 */
export function clockMarginMs(windowMs: number): number {
  return Math.min(30_000, windowMs / 4);
}

export type ScreenOptions = Readonly<{
  /** ack_wait (ms): a delivery that waited past half of it for a slot relied on deadline renewals. */
  ackWaitMs: number;
  /**
   * The event store's duplicate window (ms), for a direct actor's deliveries from the store;
   * undefined when unknown (every store delivery is then a possible duplicate).
   */
  storeWindowMs?: number;
}>;

/**
 * Screen (the Screened stage): decides whether a delivery could be a second handling of its
 * event, so that the duplicate check (processed marker, or a stateful actor's state) is paid only
 * where one is possible. A duplicate is possible for
 * - a redelivery (delivery count > 1), or a delivery that waited past half of ack_wait for a slot
 *   (a lost deadline renewal may have sent it to another worker meanwhile): both ask the
 *   marker bucket's leader;
 * - an inbox copy with `jetbus-dup-check` (the router sets it when its own delivery was a
 *   redelivery, the event is older than the inbox's duplicate window, or its id is stored under
 *   another sequence), a `jetbus replay` copy, or a dead letter sent back (`jetbus dlq replay`);
 * - a direct actor's store message whose `ce-time` is not within the store's duplicate window
 *   (less a clock margin) before the server stored it: an event id stored twice is two messages
 *   only if the second came after the window, and the first came after the event was created.
 * Any other first delivery cannot be a second handling: the server dropped any other copy.
 */
export function screen(o: ScreenOptions): Policy<Decoded, Screened> {
  const half = o.ackWaitMs / 2;
  const window = o.storeWindowMs;
  const margin = window === undefined ? 0 : clockMarginMs(window);
  const screeningOf = (h: Decoded): Screening => {
    if (h.attempt > 1 || h.waitedMs > half) return ASK_LEADER;
    const info = h.msg.info;
    if (info.stream === Streams.Inbox) {
      const c = h.copy;
      return c.dupCheck || c.replay !== undefined ? POSSIBLE : FIRST;
    }
    if (window === undefined) return POSSIBLE;
    // the producer's time, as written: a time filled in by the codec (none in the message) proves nothing
    const written = headerOf(h.wire, Header.Time);
    const created = written === undefined ? NaN : Date.parse(written);
    const age = info.timestampNanos / 1e6 - created;
    return age > -margin && age < window - margin ? FIRST : POSSIBLE;
  };
  return (next) => (h) => next(h.screen(screeningOf(h)));
}
