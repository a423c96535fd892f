import { MsgHdrsImpl } from "@nats-io/transport-node";
import type { ReadonlyHeaders } from "./types.ts";

/** The headers of the subject and header contract (docs/concepts/events.md): CloudEvents binary mode plus NATS dedupe. */
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

/** The headers the codec reads, by their lower-cased names. */
export type Attrs = {
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

/**
 * An Attrs with every field there from the start: filled in any order, it keeps one shape
 * (added one by one in the order a publisher wrote its headers, each order made new hidden
 * classes, and reading a header block cost twice as much).
 */
function emptyAttrs(): Attrs {
  return {
    contentType: undefined,
    msgId: undefined,
    specversion: undefined,
    id: undefined,
    type: undefined,
    source: undefined,
    time: undefined,
    correlationid: undefined,
    causationid: undefined,
    dataversion: undefined,
    traceparent: undefined,
  };
}

/** One pass over the headers (first value of each name; names case-insensitive, a later name wins). */
export function readHeaders(headers: ReadonlyHeaders | undefined): Attrs {
  const a = emptyAttrs();
  if (!headers) return a;
  if (headers instanceof MsgHdrsImpl) {
    // the client's own map: its get() and keys() copy and filter every key on each call
    for (const [k, v] of headers.headers) if (v.length > 0) setAttr(a, k, v[0]!);
  } else {
    for (const k of headers.keys()) setAttr(a, k, headers.get(k));
  }
  return a;
}

/**
 * The same reading straight from a message's header block as it came off the wire
 * (`NATS/1.0\r\nName: value\r\n...\r\n\r\n`), with the client's parsing rules (name as written,
 * value trimmed, the first value of a repeated name). The client's own parse canonicalises every
 * name, re-scans the names it holds for each one and regex-checks every value: on a no-op actor
 * that was a tenth of the CPU per event. Only the values of names the codec reads are copied.
 */
export function readHeaderBlock(text: string): Attrs {
  const a = emptyAttrs();
  // the first line is the version and status ("NATS/1.0" or "NATS/1.0 503"); events have no status
  let end = text.indexOf("\r\n");
  while (end >= 0) {
    const start = end + 2;
    end = text.indexOf("\r\n", start);
    // every name the codec reads starts with c, n or t in any case (ce-*, content-type, nats-msg-id,
    // traceparent): the others (jetbus-*, a publisher's own) are passed over without copying their name
    const first = text.charCodeAt(start) | 0x20;
    if (first !== 99 && first !== 110 && first !== 116) continue;
    const colon = text.indexOf(":", start);
    if (colon < 0 || (end >= 0 && colon > end)) continue;
    const key = attrAt(text, start, colon);
    if (key === undefined) continue;
    // a repeated name keeps its first value; a differently cased one comes later and wins
    if (a[key] !== undefined && text.lastIndexOf(`\n${text.slice(start, colon)}:`, start - 2) >= 0) continue;
    a[key] = valueOf(text, colon + 1, end < 0 ? text.length : end);
  }
  return a;
}

/** The attribute of the name between `start` and `colon`: the names as jetbus writes them matched in place, others by attrOf. */
function attrAt(text: string, start: number, colon: number): keyof Attrs | undefined {
  switch (colon - start) {
    case 5:
      if (text.startsWith(Header.Id, start)) return "id";
      break;
    case 7:
      if (text.startsWith(Header.Type, start)) return "type";
      if (text.startsWith(Header.Time, start)) return "time";
      break;
    case 9:
      if (text.startsWith(Header.Source, start)) return "source";
      break;
    case 11:
      if (text.startsWith(Header.MsgId, start)) return "msgId";
      if (text.startsWith(Header.TraceParent, start)) return "traceparent";
      break;
    case 12:
      if (text.startsWith(Header.ContentType, start)) return "contentType";
      break;
    case 14:
      if (text.startsWith(Header.SpecVersion, start)) return "specversion";
      if (text.startsWith(Header.DataVersion, start)) return "dataversion";
      if (text.startsWith(Header.CausationId, start)) return "causationid";
      break;
    case 16:
      if (text.startsWith(Header.CorrelationId, start)) return "correlationid";
      break;
  }
  return attrOf(text.slice(start, colon));
}

/** A header value between `from` and `to`, trimmed as String.trim does; one copy for the usual `name: value`. */
function valueOf(text: string, from: number, to: number): string {
  if (text.charCodeAt(from) === 32) from++;
  if (from >= to) return "";
  const head = text.charCodeAt(from);
  const tail = text.charCodeAt(to - 1);
  // printable ASCII at both ends: nothing to trim
  if (head > 32 && head < 127 && tail > 32 && tail < 127) return text.slice(from, to);
  return text.slice(from, to).trim();
}

/**
 * The first value of header `name` (exact case, as the client's get() matches), from the header
 * block when the message has one, otherwise from its parsed headers.
 */
export function headerOf(m: Readonly<{ headers?: ReadonlyHeaders; headerBlock?: string }>, name: string): string | undefined {
  const block = m.headerBlock;
  if (block === undefined) return m.headers?.has(name) ? m.headers.get(name) : undefined;
  const at = block.indexOf(`\n${name}:`);
  if (at < 0) return undefined;
  const end = block.indexOf("\r\n", at);
  return block.slice(at + name.length + 2, end < 0 ? undefined : end).trim();
}

/** The status code of a header block's first line (`NATS/1.0 404 Message Not Found`), 0 for none. */
export function statusOf(block: string): number {
  const eol = block.indexOf("\r\n");
  const first = eol < 0 ? block : block.slice(0, eol);
  const code = parseInt(first.slice(first.indexOf(" ") + 1), 10);
  return first.includes(" ") && Number.isInteger(code) ? code : 0;
}

function setAttr(a: Attrs, name: string, value: string): void {
  const key = attrOf(name);
  if (key !== undefined) a[key] = value;
}

function attrOf(name: string): keyof Attrs | undefined {
  switch (name) {
    case "content-type":
      return "contentType";
    case "nats-msg-id":
    case Header.MsgId:
      return "msgId";
    case Header.SpecVersion:
      return "specversion";
    case Header.Id:
      return "id";
    case Header.Type:
      return "type";
    case Header.Source:
      return "source";
    case Header.Time:
      return "time";
    case Header.CorrelationId:
      return "correlationid";
    case Header.CausationId:
      return "causationid";
    case Header.DataVersion:
      return "dataversion";
    case Header.TraceParent:
      return "traceparent";
    default: {
      // other publishers capitalise freely (Content-Type, Ce-Id); lower-case only names not matched as written
      const lower = name.toLowerCase();
      return lower === name ? undefined : attrOf(lower);
    }
  }
}

/**
 * Sets one header straight in the client's map: headers().set() re-scans every key it already
 * holds on each call, which was most of encode's cost. The value still goes through the client's
 * own check (no CR/LF, trimmed).
 */
export function putHeader(h: MsgHdrsImpl, key: string, value: string): void {
  h.headers.set(key, [MsgHdrsImpl.validHeaderValue(value)]);
}
