import { DeliverPolicy, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { Header } from "../events/codec.ts";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import { orMissing } from "../nats/missing.ts";
import { JetbusHeaders, Streams, Subjects } from "../topology.ts";
import { readStream } from "./read-stream.ts";

/** Where the router sets events aside instead of routing them. */
export const SetAsideKind = { Quarantine: "quarantine", Unrouted: "unrouted" } as const;
export type SetAsideKind = (typeof SetAsideKind)[keyof typeof SetAsideKind];

export const SET_ASIDE_STREAM: Readonly<Record<SetAsideKind, string>> = { quarantine: Streams.Quarantine, unrouted: Streams.Unrouted };

/** Header the quarantine keeps a message's own Nats-Msg-Id under (its Nats-Msg-Id becomes `<stream>:<seq>`). */
export const ORIGINAL_MSG_ID = "jetbus-original-msg-id";

/** One message of JETBUS_QUARANTINE or JETBUS_UNROUTED, as the commands show it. */
export type SetAside = Readonly<{
  kind: SetAsideKind;
  stream: string;
  /** Sequence in JETBUS_QUARANTINE / JETBUS_UNROUTED. */
  seq: number;
  /** The subject it was stored on in the event store (`events.<type>`). */
  subject: string;
  type: string;
  /** The event id it has (or would have) in the store. */
  eventId: string;
  /** Its sequence in the event store. */
  originSeq?: number;
  /** Quarantine: why it was not routed. */
  reason?: string;
  /** Unrouted: the config revision no rule of which matched. */
  revision?: number;
  /** When it was set aside. */
  time: Date;
}>;

export type SetAsideFilter = Readonly<{ type?: string; since?: Date; until?: Date; limit?: number }>;

function originalSubject(kind: SetAsideKind, subject: string): string {
  // quarantine.<original subject>; unrouted.<type> of an event stored on events.<type>
  return kind === SetAsideKind.Quarantine ? subject.slice("quarantine.".length) : `${EVENTS_PREFIX}.${subject.slice("unrouted.".length)}`;
}

/** The id the store gives the message: its own header id, else `<stream>-<seq>` (a raw body's positional id). */
export function eventIdOf(h: MsgHdrs | undefined, storeStream: string, originSeq: number | undefined, kind: SetAsideKind): string {
  const own = h?.get(Header.Id) || (kind === SetAsideKind.Quarantine ? h?.get(ORIGINAL_MSG_ID) : h?.get(Header.MsgId));
  return own || `${storeStream}-${originSeq ?? "?"}`;
}

export function toSetAside(kind: SetAsideKind, m: Pick<JsMsg, "seq" | "subject" | "headers" | "time">, storeStream: string): SetAside {
  const h = m.headers;
  const subject = originalSubject(kind, m.subject);
  const origin = Number(h?.get(JetbusHeaders.OriginSeq));
  const originSeq = origin > 0 ? origin : undefined;
  const revision = Number(h?.get(JetbusHeaders.ConfigRevision));
  return {
    kind,
    stream: SET_ASIDE_STREAM[kind],
    seq: m.seq,
    subject,
    type: h?.get(Header.Type) || subject.slice(EVENTS_PREFIX.length + 1),
    eventId: eventIdOf(h, storeStream, originSeq, kind),
    ...(originSeq ? { originSeq } : {}),
    ...(kind === SetAsideKind.Quarantine ? { reason: h?.get(JetbusHeaders.Reason) || "(no reason recorded)" } : {}),
    ...(kind === SetAsideKind.Unrouted && revision > 0 ? { revision } : {}),
    time: m.time,
  };
}

function filterSubject(kind: SetAsideKind, type?: string): string {
  if (kind === SetAsideKind.Quarantine) return type ? Subjects.quarantine(`${EVENTS_PREFIX}.${type}`) : Subjects.quarantine(">");
  return Subjects.unrouted(type ?? ">");
}

/** Lists what the router set aside, oldest first (headers only: bodies stay on the server). Empty when the stream does not exist. */
export async function listSetAside(
  nc: NatsConnection,
  jsm: JetStreamManager,
  kind: SetAsideKind,
  storeStream: string,
  f: SetAsideFilter = {},
): Promise<SetAside[]> {
  const out: SetAside[] = [];
  const limit = f.limit ?? Number.MAX_SAFE_INTEGER;
  if (limit <= 0) return out;
  const start = f.since ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: f.since.toISOString() } : {};
  await orMissing(() =>
    readStream(nc, jsm, SET_ASIDE_STREAM[kind], { filter: filterSubject(kind, f.type), headers_only: true, batch: 1000, ...start }, (m) => {
      if (f.until && m.time > f.until) return false;
      out.push(toSetAside(kind, m, storeStream));
      return out.length < limit;
    }),
  );
  return out;
}

/** The number of messages in each set-aside stream (null: not created yet). */
export async function countSetAside(jsm: JetStreamManager): Promise<Record<SetAsideKind, number | null>> {
  const [q, u] = await Promise.all([
    orMissing(() => jsm.streams.info(Streams.Quarantine)),
    orMissing(() => jsm.streams.info(Streams.Unrouted)),
  ]);
  return { quarantine: q?.state.messages ?? null, unrouted: u?.state.messages ?? null };
}

/** Set-aside messages of these events (by store sequence, else by id): for trace and get. Scans headers only. */
export async function findSetAside(
  nc: NatsConnection,
  jsm: JetStreamManager,
  storeStream: string,
  want: { seqs?: ReadonlySet<number>; ids?: ReadonlySet<string>; type?: string },
): Promise<SetAside[]> {
  const found: SetAside[] = [];
  for (const kind of [SetAsideKind.Quarantine, SetAsideKind.Unrouted]) {
    await orMissing(() =>
      readStream(nc, jsm, SET_ASIDE_STREAM[kind], { filter: filterSubject(kind, want.type), headers_only: true, batch: 1000 }, (m) => {
        const s = toSetAside(kind, m, storeStream);
        if ((s.originSeq !== undefined && want.seqs?.has(s.originSeq)) || want.ids?.has(s.eventId)) found.push(s);
      }),
    );
  }
  return found;
}
