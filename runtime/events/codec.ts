import { randomUUID } from "node:crypto";
import { MsgHdrsImpl, type MsgHdrs } from "@nats-io/transport-node";
import { EventTooLargeError, InvalidEventError } from "../errors.ts";
import { EVENTS_PREFIX, assertEventType, subjectForType, typeFromSubject } from "./subjects.ts";
import { EventForm, type Event, type NewEvent, type ReadonlyHeaders, type WireMessage } from "./types.ts";

export const Header = {
  MsgId: "Nats-Msg-Id",
  ContentType: "content-type",
  SpecVersion: "ce-specversion",
  Id: "ce-id",
  Type: "ce-type",
  Source: "ce-source",
  Time: "ce-time",
  CorrelationId: "ce-correlationid",
  CausationId: "ce-causationid",
  DataVersion: "ce-dataversion",
  TraceParent: "traceparent",
} as const;

export const JSON_CONTENT_TYPE = "application/json";
export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";
export const DEFAULT_SOURCE = "nats";
export const DEFAULT_MAX_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export type DecodeOptions = Readonly<{ maxBytes?: number; subjectPrefix?: string }>;
export type Decoded = Readonly<{ event: Event; form: EventForm }>;

/** Fills in what a producer left out: a fresh id, the current time, correlation = own id. */
export function createEvent<D>(e: NewEvent<D>, defaults: { source?: string } = {}): Event<D> {
  assertEventType(e.type);
  const id = e.id ?? randomUUID();
  return build({
    id,
    type: e.type,
    source: e.source ?? defaults.source ?? DEFAULT_SOURCE,
    time: e.time ?? new Date().toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    data: e.data,
    correlationid: e.correlationid ?? id,
    // an empty causation or trace id means "none" for a producer
    causationid: e.causationid || undefined,
    dataversion: e.dataversion ?? 1,
    traceparent: e.traceparent || undefined,
  }) as Event<D>;
}

/** Binary mode: attributes in `ce-*` headers, the data as the JSON body. `Nats-Msg-Id` = id for dedupe. */
export function encodeEvent(event: Event, opts: { subject?: string; msgId?: string } = {}): { subject: string; headers: MsgHdrs; data: Uint8Array } {
  // Filled directly rather than with headers().set(): set() re-scans every key it already holds on each
  // call, which was most of encode's cost. Values still go through the client's own check (no CR/LF, trimmed).
  const h = new MsgHdrsImpl();
  put(h, Header.MsgId, opts.msgId ?? event.id);
  put(h, Header.SpecVersion, "1.0");
  put(h, Header.Id, event.id);
  put(h, Header.Type, event.type);
  put(h, Header.Source, event.source);
  put(h, Header.Time, event.time);
  put(h, Header.CorrelationId, event.correlationid);
  if (event.causationid) put(h, Header.CausationId, event.causationid);
  put(h, Header.DataVersion, String(event.dataversion));
  put(h, Header.ContentType, event.datacontenttype);
  if (event.traceparent) put(h, Header.TraceParent, event.traceparent);
  const data = event.data === undefined ? new Uint8Array(0) : encoder.encode(typeof event.data === "string" && !isJson(event.datacontenttype) ? event.data : JSON.stringify(event.data));
  return { subject: opts.subject ?? subjectForType(event.type), headers: h, data };
}

function put(h: MsgHdrsImpl, key: string, value: string): void {
  h.headers.set(key, [MsgHdrsImpl.validHeaderValue(value)]);
}

/** Reads an event from any of the three accepted forms; every failure is an InvalidEventError naming the problem. */
export function decodeEvent(msg: WireMessage, opts: DecodeOptions = {}): Decoded {
  const limit = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (msg.data.length > limit) throw new EventTooLargeError(msg.data.length, limit);
  const h = readHeaders(msg.headers);
  const contentType = (h.contentType ?? "").toLowerCase();
  if (contentType.startsWith(STRUCTURED_CONTENT_TYPE)) return { event: structured(parseJson(msg.data, "structured CloudEvent"), msg, opts), form: EventForm.Structured };
  if (h.specversion !== undefined || h.id !== undefined || h.type !== undefined) return { event: binary(h, msg, opts), form: EventForm.Binary };
  const body = parseData(msg.data, contentType || JSON_CONTENT_TYPE);
  if (isRecord(body) && "specversion" in body) return { event: structured(body, msg, opts), form: EventForm.Structured };
  return { event: raw(h, body, contentType, msg, opts), form: EventForm.Raw };
}

/** A structured CloudEvent given as a JSON object (files, HTTP bodies, `route test`). */
export function eventFromJson(doc: unknown): Event {
  return structured(doc, undefined, {});
}

function structured(doc: unknown, msg: WireMessage | undefined, opts: DecodeOptions): Event {
  if (!isRecord(doc)) throw new InvalidEventError("structured CloudEvent must be a JSON object");
  if (doc.specversion !== "1.0") throw new InvalidEventError(`specversion must be "1.0", got ${JSON.stringify(doc.specversion)}`);
  for (const k of ["id", "type", "source"] as const) {
    if (typeof doc[k] !== "string") throw new InvalidEventError(`structured CloudEvent: "${k}" must be a string`);
  }
  const id = doc.id as string;
  const fields = {
    id,
    type: doc.type as string,
    source: doc.source as string,
    time: optionalString(doc, "time") ?? fallbackTime(msg),
    datacontenttype: optionalString(doc, "datacontenttype") ?? JSON_CONTENT_TYPE,
    data: doc.data ?? null,
    correlationid: optionalString(doc, "correlationid") ?? id,
    causationid: optionalString(doc, "causationid"),
    dataversion: doc.dataversion === undefined ? 1 : doc.dataversion,
    traceparent: optionalString(doc, "traceparent"),
  };
  if (typeof fields.dataversion !== "number") throw new InvalidEventError(`"dataversion" must be a number`);
  matchSubject(fields.type, msg, opts);
  return build(fields as Fields);
}

function binary(h: Attrs, msg: WireMessage, opts: DecodeOptions): Event {
  const spec = h.specversion;
  if (spec !== undefined && spec !== "1.0") throw new InvalidEventError(`header ${Header.SpecVersion} must be "1.0", got ${JSON.stringify(spec)}`);
  const type = h.type ?? typeFromSubject(msg.subject, opts.subjectPrefix ?? EVENTS_PREFIX);
  const id = h.id ?? h.msgId ?? positionalId(msg);
  const contentType = h.contentType || JSON_CONTENT_TYPE;
  matchSubject(type, msg, opts);
  return build({
    id,
    type,
    source: h.source ?? DEFAULT_SOURCE,
    time: h.time ?? fallbackTime(msg),
    datacontenttype: contentType,
    data: parseData(msg.data, contentType),
    correlationid: h.correlationid ?? id,
    causationid: h.causationid,
    dataversion: parseVersion(h.dataversion),
    traceparent: h.traceparent,
  });
}

function raw(h: Attrs, data: unknown, contentType: string, msg: WireMessage, opts: DecodeOptions): Event {
  const id = h.msgId ?? positionalId(msg);
  return build({
    id,
    type: typeFromSubject(msg.subject, opts.subjectPrefix ?? EVENTS_PREFIX),
    // `nats pub -H ce-source:...` names the producer without switching to binary mode
    source: h.source ?? DEFAULT_SOURCE,
    time: fallbackTime(msg),
    datacontenttype: contentType || JSON_CONTENT_TYPE,
    data,
    correlationid: h.correlationid ?? id,
    causationid: h.causationid,
    dataversion: parseVersion(h.dataversion),
    traceparent: h.traceparent,
  });
}

/** An event's attributes before validation; `undefined` optionals are left out of the event. */
type Fields = {
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
function build(f: Fields): Event {
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

function matchSubject(type: string, msg: WireMessage | undefined, opts: DecodeOptions): void {
  const prefix = (opts.subjectPrefix ?? EVENTS_PREFIX) + ".";
  if (msg && msg.subject.startsWith(prefix) && msg.subject !== prefix + type) {
    throw new InvalidEventError(`event type "${type}" does not match subject "${msg.subject}" (expected ${prefix}${type})`);
  }
}

/** The headers the codec reads, by their lower-cased names. */
type Attrs = {
  contentType?: string;
  msgId?: string;
  specversion?: string;
  id?: string;
  type?: string;
  source?: string;
  time?: string;
  correlationid?: string;
  causationid?: string;
  dataversion?: string;
  traceparent?: string;
};

/** One pass over the headers (first value of each name; names case-insensitive, a later name wins). */
function readHeaders(headers: ReadonlyHeaders | undefined): Attrs {
  const a: Attrs = {};
  if (!headers) return a;
  if (headers instanceof MsgHdrsImpl) {
    // the client's own map: its get() and keys() copy and filter every key on each call
    for (const [k, v] of headers.headers) if (v.length > 0) setAttr(a, k, v[0]!);
  } else {
    for (const k of headers.keys()) setAttr(a, k, headers.get(k));
  }
  return a;
}

function setAttr(a: Attrs, name: string, value: string): void {
  switch (name) {
    case "content-type":
      a.contentType = value;
      return;
    case "nats-msg-id":
    case Header.MsgId:
      a.msgId = value;
      return;
    case Header.SpecVersion:
      a.specversion = value;
      return;
    case Header.Id:
      a.id = value;
      return;
    case Header.Type:
      a.type = value;
      return;
    case Header.Source:
      a.source = value;
      return;
    case Header.Time:
      a.time = value;
      return;
    case Header.CorrelationId:
      a.correlationid = value;
      return;
    case Header.CausationId:
      a.causationid = value;
      return;
    case Header.DataVersion:
      a.dataversion = value;
      return;
    case Header.TraceParent:
      a.traceparent = value;
      return;
    default: {
      // other publishers capitalise freely (Content-Type, Ce-Id); lower-case only names not matched as written
      const lower = name.toLowerCase();
      if (lower !== name) setAttr(a, lower, value);
    }
  }
}

function positionalId(msg: WireMessage): string {
  if (msg.seq === undefined) throw new InvalidEventError("message has no id: set Nats-Msg-Id or ce-id (only stored messages get an id from their stream position)");
  return `${msg.stream ?? "stream"}-${msg.seq}`;
}

function fallbackTime(msg: WireMessage | undefined): string {
  return (msg?.timestamp ?? new Date()).toISOString();
}

function parseVersion(v: string | undefined): number {
  if (v === undefined) return 1;
  if (!/^\d+$/.test(v)) throw new InvalidEventError(`header ${Header.DataVersion} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

function isJson(contentType: string): boolean {
  if (contentType === JSON_CONTENT_TYPE) return true;
  const ct = contentType.toLowerCase();
  return ct.startsWith(JSON_CONTENT_TYPE) || /\+json(;|$)/.test(ct);
}

function parseData(bytes: Uint8Array, contentType: string): unknown {
  if (bytes.length === 0) return null;
  if (isJson(contentType)) return parseJson(bytes, "body");
  if (contentType.startsWith("text/")) return utf8(bytes, "body");
  throw new InvalidEventError(`unsupported content type ${JSON.stringify(contentType)}: jetbus events carry JSON or text`);
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  const text = utf8(bytes, what);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`${what} is not valid JSON: ${(err as Error).message}`, err);
  }
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new InvalidEventError(`${what} is not valid UTF-8`, err);
  }
}

function optionalString(doc: Record<string, unknown>, key: string): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new InvalidEventError(`"${key}" must be a string`);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
