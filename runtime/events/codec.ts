import { randomUUID } from "node:crypto";
import { MsgHdrsImpl } from "@nats-io/transport-node";
import { build, type Fields } from "./attributes.ts";
import { isJson, JSON_CONTENT_TYPE, MAX_JSON_DEPTH, nestsTooDeep, parseData, parseJson } from "./body.ts";
import { Header, putHeader, readHeaderBlock, readHeaders, type Attrs } from "./headers.ts";
import { EventTooLargeError, InvalidEventError } from "../errors.ts";
import { EVENTS_PREFIX, assertEventType, subjectForType, typeFromSubject } from "./subjects.ts";
import { EventForm, type Event, type NewEvent, type WireMessage } from "./types.ts";

export { Header } from "./headers.ts";
export { JSON_CONTENT_TYPE } from "./body.ts";

export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";
export const DEFAULT_SOURCE = "nats";
export const DEFAULT_MAX_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

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
export function encodeEvent(
  event: Event,
  opts: { subject?: string; msgId?: string } = {},
): { subject: string; headers: MsgHdrsImpl; data: Uint8Array } {
  const h = new MsgHdrsImpl();
  putHeader(h, Header.MsgId, opts.msgId ?? event.id);
  putHeader(h, Header.SpecVersion, "1.0");
  putHeader(h, Header.Id, event.id);
  putHeader(h, Header.Type, event.type);
  putHeader(h, Header.Source, event.source);
  putHeader(h, Header.Time, event.time);
  putHeader(h, Header.CorrelationId, event.correlationid);
  if (event.causationid) putHeader(h, Header.CausationId, event.causationid);
  putHeader(h, Header.DataVersion, String(event.dataversion));
  putHeader(h, Header.ContentType, event.datacontenttype);
  if (event.traceparent) putHeader(h, Header.TraceParent, event.traceparent);
  return { subject: opts.subject ?? subjectForType(event.type), headers: h, data: encodeData(event) };
}

/** An event's data as its binary-mode body. */
export function encodeData(event: Pick<Event, "data" | "datacontenttype">): Uint8Array {
  const json = isJson(event.datacontenttype);
  // no data is an empty body; for text, "null" would come back as the string "null"
  const empty = event.data === undefined || (event.data === null && !json);
  return empty ? new Uint8Array(0) : typeof event.data === "string" && !json ? encoder.encode(event.data) : jsonBody(event.data);
}

/** Data as a JSON body the decoder accepts again; data that cannot be one (cycles, BigInt, too deep) is an InvalidEventError. */
function jsonBody(data: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new InvalidEventError(`data cannot be written as JSON: ${(err as Error).message}`, err);
  }
  // undefined for a function or symbol: nothing a reader could decode
  if (text === undefined) throw new InvalidEventError(`data cannot be written as JSON: ${typeof data}`);
  const bytes = encoder.encode(text);
  if (nestsTooDeep(bytes)) throw new InvalidEventError(`data nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  return bytes;
}

/** Reads an event from any of the three accepted forms; every failure is an InvalidEventError naming the problem. */
export function decodeEvent(msg: WireMessage, opts: DecodeOptions = {}): Decoded {
  const limit = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (msg.data.length > limit) throw new EventTooLargeError(msg.data.length, limit);
  // the block when there is one: reading `headers` of a Delivery would parse them
  const h = msg.headerBlock === undefined ? readHeaders(msg.headers) : readHeaderBlock(msg.headerBlock);
  const contentType = (h.contentType ?? "").toLowerCase();
  if (contentType.startsWith(STRUCTURED_CONTENT_TYPE))
    return { event: structured(parseJson(msg.data, "structured CloudEvent"), msg, opts), form: EventForm.Structured };
  if (h.specversion !== undefined || h.id !== undefined || h.type !== undefined)
    return { event: binary(h, msg, opts), form: EventForm.Binary };
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
  if (spec !== undefined && spec !== "1.0")
    throw new InvalidEventError(`header ${Header.SpecVersion} must be "1.0", got ${JSON.stringify(spec)}`);
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
    // a publisher's own time wins (validated as RFC 3339 like every other form); else when it was stored
    time: h.time ?? fallbackTime(msg),
    datacontenttype: contentType || JSON_CONTENT_TYPE,
    data,
    correlationid: h.correlationid ?? id,
    causationid: h.causationid,
    dataversion: parseVersion(h.dataversion),
    traceparent: h.traceparent,
  });
}

function matchSubject(type: string, msg: WireMessage | undefined, opts: DecodeOptions): void {
  const prefix = (opts.subjectPrefix ?? EVENTS_PREFIX) + ".";
  if (msg && msg.subject.startsWith(prefix) && msg.subject !== prefix + type) {
    throw new InvalidEventError(`event type "${type}" does not match subject "${msg.subject}" (expected ${prefix}${type})`);
  }
}

function positionalId(msg: WireMessage): string {
  if (msg.seq === undefined)
    throw new InvalidEventError("message has no id: set Nats-Msg-Id or ce-id (only stored messages get an id from their stream position)");
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

function optionalString(doc: Record<string, unknown>, key: string): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new InvalidEventError(`"${key}" must be a string`);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
