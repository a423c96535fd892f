import { InvalidEventError } from "../errors.ts";
import { assertEventType } from "./subjects.ts";
import type { Event } from "./types.ts";

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** An event's attributes before validation; `undefined` optionals are left out of the event. */
export type Fields = {
  id: string;
  type: string;
  source: string;
  time: string;
  datacontenttype: string;
  data: unknown;
  correlationid: string;
  causationid: string | undefined;
  dataversion: number;
  traceparent: string | undefined;
};

/** Validates the attributes and returns the event, always with the same key order. */
export function build(f: Fields): Event {
  checkAttributes(f);
  // undefined optionals are left out (not set to undefined) so events compare and print cleanly
  const e: { -readonly [K in keyof Event]?: Event[K] } = {
    specversion: "1.0",
    id: f.id,
    type: f.type,
    source: f.source,
    time: f.time,
    datacontenttype: f.datacontenttype,
    data: f.data,
    correlationid: f.correlationid,
  };
  if (f.causationid !== undefined) e.causationid = f.causationid;
  e.dataversion = f.dataversion;
  if (f.traceparent !== undefined) e.traceparent = f.traceparent;
  return e as Event;
}

function checkAttributes(e: Fields): void {
  checkId("id", e.id);
  checkId("source", e.source);
  checkId("correlationid", e.correlationid);
  if (e.causationid !== undefined && (!e.causationid || CONTROL.test(e.causationid))) throw new InvalidEventError(`"causationid" must be a non-empty string without control characters`);
  assertEventType(e.type);
  if (!RFC3339.test(e.time) || Number.isNaN(Date.parse(e.time))) throw new InvalidEventError(`"time" must be an RFC 3339 timestamp, got ${JSON.stringify(e.time)}`);
  if (!Number.isInteger(e.dataversion) || e.dataversion < 0) throw new InvalidEventError(`"dataversion" must be a whole number >= 0, got ${JSON.stringify(e.dataversion)}`);
  if (e.traceparent !== undefined && !TRACEPARENT.test(e.traceparent)) throw new InvalidEventError(`"traceparent" is not a W3C trace context: ${JSON.stringify(e.traceparent)}`);
}

function checkId(name: string, v: string): void {
  if (!v) throw new InvalidEventError(`"${name}" must not be empty`);
  if (v.length > 1024) throw new InvalidEventError(`"${name}" is longer than 1024 characters`);
  if (CONTROL.test(v)) throw new InvalidEventError(`"${name}" contains control characters`);
}

