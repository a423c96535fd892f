import { decodeEvent } from "../events/codec.ts";
import type { Event, EventForm } from "../events/types.ts";
import { SchemaViolationError } from "../errors.ts";
import type { EventSchemas } from "../store/schemas.ts";
import type { StoredEventMsg } from "./copies.ts";

/**
 * What the router does with a stored message: route the event, or quarantine the message with a
 * reason. `decoded` is the event of a message that decodes but breaks its schema (it is indexed
 * like every decodable message, and quarantined).
 */
export type Admission =
  | { event: Event; reason?: undefined; decoded?: undefined; form: EventForm }
  | { event?: undefined; reason: string; decoded?: Event; form?: EventForm };

/** `schema schemas/events/UserCreated.json: user_id: must be string; email: is required` (one header line). */
export function schemaReason(err: SchemaViolationError): string {
  return `schema schemas/events/${err.eventType}.json: ${err.problems.map((p) => `${p.path || "(data)"}: ${p.message}`).join("; ")}`;
}

/**
 * Decodes a stored message and checks its data against `schemas/events/<type>.json`, whoever
 * published it (`jetbus pub` checks before publishing; `nats pub` and other clients do not).
 * Anything that fails is never routed to an actor: it goes to quarantine with the reason.
 * Cost: types without a schema are one cached map lookup; a schema is compiled once per type.
 */
export function admit(m: StoredEventMsg, schemas: EventSchemas): Admission {
  let event: Event;
  let form: EventForm;
  try {
    ({ event, form } = decodeEvent(m, { maxBytes: Number.MAX_SAFE_INTEGER }));
  } catch (err) {
    return { reason: (err as Error).message };
  }
  try {
    schemas.check(event.type, event.data);
  } catch (err) {
    if (err instanceof SchemaViolationError) return { reason: schemaReason(err), decoded: event, form };
    throw err;
  }
  return { event, form };
}
