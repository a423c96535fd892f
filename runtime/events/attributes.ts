import { InvalidEventError } from "../errors.ts";
import { isJson, isSupportedContentType } from "./body.ts";
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
  subject?: string | undefined;
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
  if (f.subject !== undefined) e.subject = f.subject;
  if (f.causationid !== undefined) e.causationid = f.causationid;
  e.dataversion = f.dataversion;
  if (f.traceparent !== undefined) e.traceparent = f.traceparent;
  return e as Event;
}

function checkAttributes(e: Fields): void {
  checkId("id", e.id);
  checkId("source", e.source);
  checkId("correlationid", e.correlationid);
  if (e.causationid !== undefined) checkId("causationid", e.causationid);
  if (e.subject !== undefined) checkId("subject", e.subject);
  assertEventType(e.type);
  if (!RFC3339.test(e.time) || Number.isNaN(Date.parse(e.time)))
    throw new InvalidEventError(`"time" must be an RFC 3339 timestamp, got ${JSON.stringify(e.time)}`);
  // a safe integer prints back as digits: 1e21 would become the header "1e+21", which no reader accepts
  if (!Number.isSafeInteger(e.dataversion) || e.dataversion < 0)
    throw new InvalidEventError(`"dataversion" must be a whole number >= 0, got ${JSON.stringify(e.dataversion)}`);
  checkContent(e.datacontenttype, e.data);
  if (e.traceparent !== undefined && !TRACEPARENT.test(e.traceparent))
    throw new InvalidEventError(`"traceparent" is not a W3C trace context: ${JSON.stringify(e.traceparent)}`);
}

// Every check below keeps an accepted event re-encodable: the router re-publishes each copy in
// binary mode (attributes as headers), and a copy its actor cannot decode would be a poison message.
function checkId(name: string, v: string): void {
  if (!v) throw new InvalidEventError(`"${name}" must not be empty`);
  if (v.length > 1024) throw new InvalidEventError(`"${name}" is longer than 1024 characters`);
  if (CONTROL.test(v)) throw new InvalidEventError(`"${name}" contains control characters`);
  // header values are trimmed on the wire: " a" would come back as "a", a different id
  if (v !== v.trim()) throw new InvalidEventError(`"${name}" has leading or trailing whitespace: ${JSON.stringify(v)}`);
}

function checkContent(contentType: string, data: unknown): void {
  if (!isSupportedContentType(contentType) || CONTROL.test(contentType) || contentType !== contentType.trim()) {
    throw new InvalidEventError(
      `unsupported datacontenttype ${JSON.stringify(contentType)}: jetbus events carry JSON (application/json, */*+json) or text (text/*)`,
    );
  }
  if (!isJson(contentType) && data !== null && typeof data !== "string") {
    throw new InvalidEventError(
      `data of a ${JSON.stringify(contentType)} event must be a string, got ${Array.isArray(data) ? "an array" : typeof data}`,
    );
  }
}
