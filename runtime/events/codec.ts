import { randomUUID } from "node:crypto";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { EventTooLargeError, InvalidEventError } from "../errors.ts";
import { EVENTS_PREFIX, assertEventType, subjectForType, typeFromSubject } from "./subjects.ts";
import { EventForm, type Event, type NewEvent, type WireMessage } from "./types.ts";

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
  return checkAttributes({
    specversion: "1.0",
    id,
    type: e.type,
    source: e.source ?? defaults.source ?? DEFAULT_SOURCE,
    time: e.time ?? new Date().toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    data: e.data,
    correlationid: e.correlationid ?? id,
    ...(e.causationid ? { causationid: e.causationid } : {}),
    dataversion: e.dataversion ?? 1,
    ...(e.traceparent ? { traceparent: e.traceparent } : {}),
  }) as Event<D>;
}

/** Binary mode: attributes in `ce-*` headers, the data as the JSON body. `Nats-Msg-Id` = id for dedupe. */
export function encodeEvent(event: Event, opts: { subject?: string; msgId?: string } = {}): { subject: string; headers: MsgHdrs; data: Uint8Array } {
  const h = natsHeaders();
  h.set(Header.MsgId, opts.msgId ?? event.id);
  h.set(Header.SpecVersion, "1.0");
  h.set(Header.Id, event.id);
  h.set(Header.Type, event.type);
  h.set(Header.Source, event.source);
  h.set(Header.Time, event.time);
  h.set(Header.CorrelationId, event.correlationid);
  if (event.causationid) h.set(Header.CausationId, event.causationid);
  h.set(Header.DataVersion, String(event.dataversion));
  h.set(Header.ContentType, event.datacontenttype);
  if (event.traceparent) h.set(Header.TraceParent, event.traceparent);
  const data = event.data === undefined ? new Uint8Array(0) : encoder.encode(typeof event.data === "string" && !isJson(event.datacontenttype) ? event.data : JSON.stringify(event.data));
  return { subject: opts.subject ?? subjectForType(event.type), headers: h, data };
}

/** Reads an event from any of the three accepted forms; every failure is an InvalidEventError naming the problem. */
export function decodeEvent(msg: WireMessage, opts: DecodeOptions = {}): Decoded {
  const limit = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (msg.data.length > limit) throw new EventTooLargeError(msg.data.length, limit);
  const h = lowerCaseHeaders(msg);
  const contentType = (h.get(Header.ContentType) ?? "").toLowerCase();
  if (contentType.startsWith(STRUCTURED_CONTENT_TYPE)) return { event: structured(parseJson(msg.data, "structured CloudEvent"), msg, opts), form: EventForm.Structured };
  if (h.has(Header.SpecVersion) || h.has(Header.Id) || h.has(Header.Type)) return { event: binary(h, msg, opts), form: EventForm.Binary };
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
  const event = {
    specversion: "1.0" as const,
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
  if (typeof event.dataversion !== "number") throw new InvalidEventError(`"dataversion" must be a number`);
  matchSubject(event.type, msg, opts);
  return checkAttributes(event as Event);
}

function binary(h: Map<string, string>, msg: WireMessage, opts: DecodeOptions): Event {
  const spec = h.get(Header.SpecVersion);
  if (spec !== undefined && spec !== "1.0") throw new InvalidEventError(`header ${Header.SpecVersion} must be "1.0", got ${JSON.stringify(spec)}`);
  const type = h.get(Header.Type) ?? typeFromSubject(msg.subject, opts.subjectPrefix ?? EVENTS_PREFIX);
  const id = h.get(Header.Id) ?? h.get(Header.MsgId.toLowerCase()) ?? positionalId(msg);
  const contentType = h.get(Header.ContentType) || JSON_CONTENT_TYPE;
  matchSubject(type, msg, opts);
  return checkAttributes({
    specversion: "1.0",
    id,
    type,
    source: h.get(Header.Source) ?? DEFAULT_SOURCE,
    time: h.get(Header.Time) ?? fallbackTime(msg),
    datacontenttype: contentType,
    data: parseData(msg.data, contentType),
    correlationid: h.get(Header.CorrelationId) ?? id,
    causationid: h.get(Header.CausationId),
    dataversion: parseVersion(h.get(Header.DataVersion)),
    traceparent: h.get(Header.TraceParent),
  });
}

function raw(h: Map<string, string>, data: unknown, contentType: string, msg: WireMessage, opts: DecodeOptions): Event {
  const id = h.get(Header.MsgId.toLowerCase()) ?? positionalId(msg);
  return checkAttributes({
    specversion: "1.0",
    id,
    type: typeFromSubject(msg.subject, opts.subjectPrefix ?? EVENTS_PREFIX),
    source: DEFAULT_SOURCE,
    time: fallbackTime(msg),
    datacontenttype: contentType || JSON_CONTENT_TYPE,
    data,
    correlationid: h.get(Header.CorrelationId) ?? id,
    causationid: h.get(Header.CausationId),
    dataversion: parseVersion(h.get(Header.DataVersion)),
    traceparent: h.get(Header.TraceParent),
  });
}

function checkAttributes(e: Event): Event {
  for (const k of ["id", "source", "correlationid"] as const) {
    const v = e[k];
    if (!v) throw new InvalidEventError(`"${k}" must not be empty`);
    if (v.length > 1024) throw new InvalidEventError(`"${k}" is longer than 1024 characters`);
    if (CONTROL.test(v)) throw new InvalidEventError(`"${k}" contains control characters`);
  }
  if (e.causationid !== undefined && (!e.causationid || CONTROL.test(e.causationid))) throw new InvalidEventError(`"causationid" must be a non-empty string without control characters`);
  assertEventType(e.type);
  if (!RFC3339.test(e.time) || Number.isNaN(Date.parse(e.time))) throw new InvalidEventError(`"time" must be an RFC 3339 timestamp, got ${JSON.stringify(e.time)}`);
  if (!Number.isInteger(e.dataversion) || e.dataversion < 0) throw new InvalidEventError(`"dataversion" must be a whole number >= 0, got ${JSON.stringify(e.dataversion)}`);
  if (e.traceparent !== undefined && !TRACEPARENT.test(e.traceparent)) throw new InvalidEventError(`"traceparent" is not a W3C trace context: ${JSON.stringify(e.traceparent)}`);
  // drop undefined optionals so events compare and print cleanly
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as Event;
}

function matchSubject(type: string, msg: WireMessage | undefined, opts: DecodeOptions): void {
  const prefix = (opts.subjectPrefix ?? EVENTS_PREFIX) + ".";
  if (msg && msg.subject.startsWith(prefix) && msg.subject !== prefix + type) {
    throw new InvalidEventError(`event type "${type}" does not match subject "${msg.subject}" (expected ${prefix}${type})`);
  }
}

function lowerCaseHeaders(msg: WireMessage): Map<string, string> {
  const map = new Map<string, string>();
  if (!msg.headers) return map;
  for (const k of msg.headers.keys()) map.set(k.toLowerCase(), msg.headers.get(k));
  return map;
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
