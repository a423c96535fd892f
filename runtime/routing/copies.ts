import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { encodeData, Header } from "../events/codec.ts";
import { headerBlock } from "../nats/header-block.ts";
import type { Event } from "../events/types.ts";
import type { OutgoingMessage } from "../store/types.ts";
import { JetbusHeaders, Subjects } from "../topology.ts";
import type { RouteCopy } from "./types.ts";

/**
 * What routing reads from a stored event message: a consumed JsMsg (a Delivery), or one read from
 * the stream directly (catch-up). The codec reads it as it is.
 */
export type StoredEventMsg = Readonly<{
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
  headerBlock?: string;
  seq: number;
  stream: string;
  timestamp: Date;
}>;

/** Nats-Msg-Id of an inbox copy: a redelivered event produces the same ids, so the inbox stores each copy once. */
export function copyMsgId(eventId: string, actor: string): string {
  return `${eventId}:${actor}`;
}

/**
 * An inbox copy: binary-mode CloudEvent plus the routing headers of the README. `dupCheck`: a
 * duplicate is possible (JetbusHeaders.DupCheck), so the actor reads its processed marker.
 * `body`: the stored message's body when it is the copy's data as it is (a binary or raw event,
 * data not transformed), sent as it is instead of encoded again.
 *
 * The headers are written as text (headerBlock): the event's attributes were checked when it was
 * decoded (no control characters, no surrounding whitespace: attributes.ts), actor and rule names
 * by the config schema. Actors read such a copy exactly as one made with the client's headers.
 */
export function copyMessage(copy: RouteCopy, originSeq: number, revision: number, dupCheck: boolean, body?: Uint8Array): OutgoingMessage {
  const e = copy.event;
  let h = `\r\n${Header.MsgId}: ${copyMsgId(e.id, copy.actor)}\r\n${Header.SpecVersion}: 1.0\r\n${Header.Id}: ${e.id}\r\n${Header.Type}: ${e.type}\r\n${Header.Source}: ${e.source}\r\n${Header.Time}: ${e.time}\r\n${Header.CorrelationId}: ${e.correlationid}`;
  if (e.causationid) h += `\r\n${Header.CausationId}: ${e.causationid}`;
  h += `\r\n${Header.DataVersion}: ${e.dataversion}\r\n${Header.ContentType}: ${e.datacontenttype}`;
  if (e.traceparent) h += `\r\n${Header.TraceParent}: ${e.traceparent}`;
  h += `\r\n${JetbusHeaders.OriginSeq}: ${originSeq}\r\n${JetbusHeaders.Rule}: ${copy.rule}\r\n${JetbusHeaders.ConfigRevision}: ${revision}`;
  if (dupCheck) h += `\r\n${JetbusHeaders.DupCheck}: 1`;
  return { subject: copy.subject, data: body ?? encodeData(e), headers: headerBlock(h) };
}

function copyHeaders(m: StoredEventMsg): MsgHdrs {
  const h = natsHeaders();
  if (m.headers) for (const k of m.headers.keys()) for (const v of m.headers.values(k)) h.append(k, v);
  return h;
}

/** Header values are one line of printable text. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\u0000-\u001f\u007f]+/g, " ").slice(0, 1000);
}

/** The original event, bytes and headers as stored, to `unrouted.<type>`. */
export function unroutedMessage(m: StoredEventMsg, event: Event, revision: number): OutgoingMessage {
  const h = copyHeaders(m);
  h.set(Header.MsgId, event.id);
  h.set(JetbusHeaders.OriginSeq, String(m.seq));
  h.set(JetbusHeaders.ConfigRevision, String(revision));
  return { subject: Subjects.unrouted(event.type), data: m.data, headers: h };
}

/** A message that does not decode, bytes and headers untouched, to `quarantine.<subject>` with the reason. */
export function quarantineMessage(m: StoredEventMsg, reason: string): OutgoingMessage {
  const h = copyHeaders(m);
  const original = h.get(Header.MsgId);
  if (original) h.set("jetbus-original-msg-id", oneLine(original));
  h.set(Header.MsgId, `${m.stream}:${m.seq}`);
  h.set(JetbusHeaders.Reason, oneLine(reason) || "undecodable");
  h.set(JetbusHeaders.OriginSeq, String(m.seq));
  return { subject: Subjects.quarantine(m.subject), data: m.data, headers: h };
}
