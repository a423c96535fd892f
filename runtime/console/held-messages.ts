import { DeliverPolicy } from "@nats-io/jetstream";
import type { ConsoleContext } from "./context.ts";
import { readStream } from "../operations/mod.ts";
import { orMissing } from "../nats/missing.ts";
import { JetbusHeaders } from "../topology.ts";
import { Header } from "../events/mod.ts";

/** A message held in JETBUS_UNROUTED or JETBUS_QUARANTINE, as the console lists it. */
export type HeldMessage = Readonly<{
  seq: number;
  subject: string;
  time: string;
  eventId?: string;
  type?: string;
  reason?: string;
  originSeq?: number;
  configRevision?: number;
  headers: Readonly<Record<string, string>>;
  /** The body as text, cut at 2 KiB. */
  body: string;
}>;

const BODY_PREVIEW = 2048;

/** The newest `limit` messages of a stream, oldest first; empty when the stream does not exist. */
export async function readHeld(ctx: ConsoleContext, stream: string, filter: string, limit: number): Promise<HeldMessage[]> {
  const jsm = await ctx.jsm();
  const info = await orMissing(() => jsm.streams.info(stream));
  if (!info || info.state.messages === 0) return [];
  const start = Math.max(info.state.first_seq, info.state.last_seq - limit + 1);
  const out: HeldMessage[] = [];
  const decoder = new TextDecoder();
  await readStream(ctx.nc, jsm, stream, { filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start }, (m) => {
    const headers: Record<string, string> = {};
    for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
    const num = (k: string) => (headers[k] && Number.isFinite(Number(headers[k])) ? Number(headers[k]) : undefined);
    const originSeq = num(JetbusHeaders.OriginSeq),
      configRevision = num(JetbusHeaders.ConfigRevision);
    out.push({
      seq: m.seq,
      subject: m.subject,
      time: m.time.toISOString(),
      ...(headers[Header.Id] || headers[Header.MsgId] ? { eventId: headers[Header.Id] || headers[Header.MsgId] } : {}),
      ...(headers[Header.Type] ? { type: headers[Header.Type] } : {}),
      ...(headers[JetbusHeaders.Reason] ? { reason: headers[JetbusHeaders.Reason] } : {}),
      ...(originSeq !== undefined ? { originSeq } : {}),
      ...(configRevision !== undefined ? { configRevision } : {}),
      headers,
      body: decoder.decode(m.data.subarray(0, BODY_PREVIEW)),
    });
  });
  return out;
}
