import { MsgHdrsImpl } from "@nats-io/transport-node";
import type { ReadonlyHeaders } from "./types.ts";

/** The headers of the subject and header contract (README): CloudEvents binary mode plus NATS dedupe. */
export const Header = {
  MsgId: "Nats-Msg-Id",
  ContentType: "content-type",
  SpecVersion: "ce-specversion",
  Id: "ce-id",
  Type: "ce-type",
  Source: "ce-source",
  Time: "ce-time",
  Subject: "ce-subject",
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
  subject?: string;
  correlationid?: string;
  causationid?: string;
  dataversion?: string;
  traceparent?: string;
};

/** One pass over the headers (first value of each name; names case-insensitive, a later name wins). */
export function readHeaders(headers: ReadonlyHeaders | undefined): Attrs {
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

/**
 * The same reading straight from a message's header block as it came off the wire
 * (`NATS/1.0\r\nName: value\r\n...\r\n\r\n`), with the client's parsing rules (name as written,
 * value trimmed, the first value of a repeated name). The client's own parse canonicalises every
 * name, re-scans the names it holds for each one and regex-checks every value: on a no-op actor
 * that was a tenth of the CPU per event. Only the values of names the codec reads are copied.
 */
export function readHeaderBlock(text: string): Attrs {
  const a: Attrs = {};
  // the first line is the version and status ("NATS/1.0" or "NATS/1.0 503"); events have no status
  let end = text.indexOf("\r\n");
  while (end >= 0) {
    const start = end + 2;
    end = text.indexOf("\r\n", start);
    const colon = text.indexOf(":", start);
    if (colon < 0 || (end >= 0 && colon > end)) continue;
    const name = text.slice(start, colon);
    const key = attrOf(name);
    if (key === undefined) continue;
    // a repeated name keeps its first value; a differently cased one comes later and wins
    if (a[key] !== undefined && text.lastIndexOf(`\n${name}:`, start - 2) >= 0) continue;
    a[key] = (end < 0 ? text.slice(colon + 1) : text.slice(colon + 1, end)).trim();
  }
  return a;
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
    case Header.Subject:
      return "subject";
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
