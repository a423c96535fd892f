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

/**
 * Sets one header straight in the client's map: headers().set() re-scans every key it already
 * holds on each call, which was most of encode's cost. The value still goes through the client's
 * own check (no CR/LF, trimmed).
 */
export function putHeader(h: MsgHdrsImpl, key: string, value: string): void {
  h.headers.set(key, [MsgHdrsImpl.validHeaderValue(value)]);
}

