import { DeliverPolicy } from "@nats-io/jetstream";
import type { ConsoleContext } from "./context.ts";
import { readStream } from "../operations/read-stream.ts";
import { SET_ASIDE_STREAM, SetAsideKind, toSetAside } from "../operations/set-aside.ts";
import { Subjects } from "../topology.ts";
import { orMissing } from "../nats/missing.ts";

/** A message held in JETBUS_UNROUTED or JETBUS_QUARANTINE, as the console lists it. */
export type HeldMessage = Readonly<{
  seq: number;
  /** Its subject in the set-aside stream (quarantine.events.T, unrouted.T). */
  subject: string;
  time: string;
  /** The event id it has (or would have) in the store: the same as `jetbus quarantine|unrouted list` shows. */
  eventId: string;
  type?: string;
  reason?: string;
  originSeq?: number;
  configRevision?: number;
  headers: Readonly<Record<string, string>>;
  /** The body as text, cut at 2 KiB. */
  body: string;
}>;

const BODY_PREVIEW = 2048;

/** The newest `limit` messages of a set-aside stream, oldest first; empty when the stream does not exist. */
export async function readHeld(ctx: ConsoleContext, kind: SetAsideKind, limit: number): Promise<HeldMessage[]> {
  const jsm = await ctx.jsm();
  const stream = SET_ASIDE_STREAM[kind];
  const info = await orMissing(() => jsm.streams.info(stream));
  if (!info || info.state.messages === 0) return [];
  const start = Math.max(info.state.first_seq, info.state.last_seq - limit + 1);
  const out: HeldMessage[] = [];
  const decoder = new TextDecoder();
  const filter = kind === SetAsideKind.Quarantine ? Subjects.quarantine(">") : Subjects.unrouted(">");
  await readStream(ctx.nc, jsm, stream, { filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start }, (m) => {
    // the commands' reading of the headers: a quarantined message's own Nats-Msg-Id is kept aside (its own is `<stream>:<seq>`)
    const s = toSetAside(kind, m, ctx.deps.config.store.stream);
    const headers: Record<string, string> = {};
    for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
    out.push({
      seq: m.seq,
      subject: m.subject,
      time: m.time.toISOString(),
      eventId: s.eventId,
      type: s.type,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      ...(s.originSeq !== undefined ? { originSeq: s.originSeq } : {}),
      ...(s.revision !== undefined ? { configRevision: s.revision } : {}),
      headers,
      body: decoder.decode(m.data.subarray(0, BODY_PREVIEW)),
    });
  });
  return out;
}
