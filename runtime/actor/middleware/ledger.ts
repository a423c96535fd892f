import { Streams } from "../../topology.ts";
import { DeliveryLedger } from "../delivery-ledger.ts";
import type { Outcome, Policy } from "./types.ts";

const LEAVE: Outcome = { kind: "leave" };
const DUPLICATE: Outcome = { kind: "ack", result: "duplicate" };

/**
 * Delivery ledger (see DeliveryLedger): a second copy of a message this worker ran is acked
 * without the rest of the chain, a copy of one still running here is left alone. A delivery
 * counts as handled once it is acked or terminated.
 */
export function deliveryLedger(inbox: DeliveryLedger = new DeliveryLedger()): Policy {
  // a direct actor also consumes the event store, whose sequences are not the inbox's
  const others = new Map<string, DeliveryLedger>();
  const inboxStream = Streams.Inbox;
  return (next) => async (h) => {
    const stream = h.msg.info.stream;
    if (stream !== inboxStream && !others.has(stream)) others.set(stream, new DeliveryLedger());
    const ledger = stream === inboxStream ? inbox : others.get(stream)!;
    const seq = h.msg.seq;
    const stamp = h.msg.info.timestampNanos;
    if (!ledger.begin(seq, stamp)) return ledger.wasHandled(seq, stamp) ? DUPLICATE : LEAVE;
    try {
      const out = await next(h);
      if (out.kind === "ack" || out.kind === "term") ledger.markHandled(seq, stamp);
      return out;
    } finally {
      ledger.end(seq);
    }
  };
}
