import { Streams } from "../../topology.ts";
import { DeliveryLedger } from "../delivery-ledger.ts";
import type { Delivered, Policy, Settled } from "./types.ts";

const LEAVE: Settled = { kind: "leave" };
const DUPLICATE: Settled = { kind: "ack", result: "duplicate" };

/**
 * Delivery ledger (see DeliveryLedger): a second copy of a message this worker ran is acked
 * without the rest of the chain, a copy of one still running here is left alone. A delivery
 * counts as handled once it is acked or terminated.
 */
export function deliveryLedger(inbox: DeliveryLedger = new DeliveryLedger()): Policy<Delivered, Delivered, Settled, Settled> {
  // a direct actor also consumes the event store, whose sequences are not the inbox's
  const others = new Map<string, DeliveryLedger>();
  const ledgerOf = (stream: string): DeliveryLedger => {
    if (stream === Streams.Inbox) return inbox;
    let l = others.get(stream);
    if (!l) others.set(stream, (l = new DeliveryLedger()));
    return l;
  };
  return (next) => (h) => {
    const info = h.msg.info;
    const ledger = ledgerOf(info.stream);
    const seq = h.msg.seq;
    const stamp = info.timestampNanos;
    if (!ledger.begin(seq, stamp)) return Promise.resolve(ledger.wasHandled(seq, stamp) ? DUPLICATE : LEAVE);
    return next(h).then(
      (out) => {
        if (out.kind === "ack" || out.kind === "term") ledger.markHandled(seq, stamp);
        ledger.end(seq);
        return out;
      },
      (err: unknown) => {
        ledger.end(seq);
        throw err;
      },
    );
  };
}
