import { SchemaViolationError } from "../../errors.ts";
import { Streams } from "../../topology.ts";
import type { Delivered, Outcome, Policy } from "./types.ts";

/** What the admission policy needs of the event schemas (EventSchemas). */
export type SchemaCheck = Readonly<{ check(type: string, data: unknown): void }>;

const NOT_ADMITTED: Outcome = { kind: "ack", result: "not_admitted" };

/**
 * Admission, for a direct actor's deliveries from the event store: the router quarantines a
 * stored message that does not decode or whose data breaks its type's schema, and an inbox
 * copy of it never exists; a direct actor reads the store itself, so it acks such a message
 * without handling it (the quarantine and its count stay the router's). Inbox deliveries pass.
 */
export function storeAdmission(schemas: SchemaCheck): Policy<Delivered> {
  return (next) => (h) => {
    if (h.msg.info.stream === Streams.Inbox) return next(h);
    const event = h.event;
    if (!event) return Promise.resolve(NOT_ADMITTED);
    try {
      schemas.check(event.type, event.data);
    } catch (err) {
      if (err instanceof SchemaViolationError) return Promise.resolve(NOT_ADMITTED);
      throw err;
    }
    return next(h);
  };
}
