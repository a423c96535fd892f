import type { JsMsg } from "@nats-io/jetstream";
import type { Msg, MsgHdrs } from "@nats-io/transport-node";
import type { WireMessage } from "../events/types.ts";

/** The fields of the client's received-message class (nats-core MsgImpl) read here. */
type CoreInternals = { _msg?: { hdr?: unknown }; _rdata?: unknown };

/**
 * A received message's header block as text, unparsed, for readHeaderBlock and headerOf. It
 * reads fields the client does not export (checked against @nats-io/nats-core 3.x); when they
 * are not there, as after a client change, or the message has no headers, it returns undefined
 * and callers read `msg.headers` as before, so a client upgrade can cost speed, not correctness.
 */
export function headerBlockOf(msg: Msg | JsMsg): string | undefined {
  const core = ("msg" in msg ? msg.msg : msg) as unknown as CoreInternals;
  const hdr = core?._msg?.hdr;
  const raw = core?._rdata;
  if (typeof hdr !== "number" || hdr <= 0 || !Buffer.isBuffer(raw) || raw.length < hdr) return undefined;
  return raw.toString("utf8", 0, hdr);
}

/**
 * A JetStream delivery as the codec reads it: the header block for the codec, the parsed headers
 * only if something else asks for them, and the stream timestamp only if the event carries no
 * time of its own.
 */
export class Delivery implements WireMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headerBlock: string | undefined;
  readonly seq: number;
  readonly stream: string;

  constructor(
    private readonly msg: JsMsg,
    stream?: string,
  ) {
    this.subject = msg.subject;
    this.data = msg.data;
    this.headerBlock = headerBlockOf(msg);
    this.seq = msg.seq;
    this.stream = stream ?? msg.info.stream;
  }

  get headers(): MsgHdrs | undefined {
    return this.msg.headers;
  }

  get timestamp(): Date {
    return this.msg.time;
  }
}
