import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEvent, eventFromJson } from "../events/codec.ts";
import type { Event } from "../events/types.ts";
import { upcast } from "../events/versions/upcast.ts";
import { InvalidEventError } from "../errors.ts";
import type { DirectMessage } from "../nats/direct.ts";
import { directRange, storedTimeOf } from "../nats/direct-range.ts";
import { retryTransient } from "../nats/connect.ts";
import { JetbusHeaders } from "../topology.ts";

/** One stored event of an entity, as a load folds it. */
export type EntityMessage = Readonly<{
  /** Decoded, and upcast to its type's latest version. */
  event: Event;
  /** As stored (before upcasting). */
  storedVersion: number;
  seq: number;
  /** When the store recorded it. */
  time: Date;
  command?: string;
  /** Its place in a decision of several events. */
  decision?: Readonly<{ index: number; size: number }>;
  /** On the first event of such a decision: the events after it. */
  rest?: readonly Event[];
}>;

/**
 * Messages asked for in one batched direct get. An entity of 1,000 events is one request; the
 * server may end a batch early (its byte limit), and a batch's last message says how many more
 * match (`Nats-Num-Pending`), so the read goes on from there only when some do.
 */
const READ_BATCH = 4096;

/**
 * Every message on `filter` (one entity's subjects) from `fromSeq`, in stream order, by batched
 * direct gets (nats-server 2.11+; the store jetbus creates allows them). Any replica of the store
 * may answer a direct get, so on a cluster the read can trail the leader by a moment: a caller
 * that knows a sequence must be there passes `minSeq` (see AggregateStore.load).
 */
export async function readEntityMessages(nc: NatsConnection, stream: string, filter: string, fromSeq: number): Promise<DirectMessage[]> {
  const out: DirectMessage[] = [];
  let seq = Math.max(1, fromSeq);
  for (;;) {
    const got = await retryTransient(() => directRange(nc, stream, { seq, batch: READ_BATCH, next_by_subj: filter }));
    for (const m of got.messages) out.push(m);
    if (got.pending <= 0 || got.messages.length === 0) return out;
    seq = got.messages[got.messages.length - 1]!.seq + 1;
  }
}

/**
 * A stored message of an entity as a load folds it. A message there that is not a valid event
 * is an InvalidEventError naming it: an entity's state cannot be computed past a hole, so the
 * load stops rather than skip it (remove or fix it with `nats stream rmm`, then load again).
 */
export function entityMessageOf(m: DirectMessage, stream: string): EntityMessage {
  const seq = m.seq;
  const subject = m.subject;
  const time = storedTimeOf(m);
  let stored: Event;
  try {
    stored = decodeEvent(
      {
        subject,
        data: m.data,
        headerBlock: m.headerBlock,
        headers: m.headerBlock === undefined ? m.headers : undefined,
        seq,
        timestamp: time,
        stream,
      },
      { maxBytes: Number.MAX_SAFE_INTEGER },
    ).event;
  } catch (err) {
    throw new InvalidEventError(`${stream} message ${seq} on ${subject} is not a valid event: ${(err as Error).message}`, err);
  }
  const decision = m.header(JetbusHeaders.Decision);
  const rest = m.header(JetbusHeaders.DecisionRest);
  return {
    event: upcast(stored),
    storedVersion: stored.dataversion,
    seq,
    time,
    command: m.header(JetbusHeaders.Command) || undefined,
    decision: decision ? parseDecision(decision) : undefined,
    rest: rest ? decodeRest(rest) : undefined,
  };
}

/** `<i>/<n>`; anything else reads as no decision (the event folds alone). */
function parseDecision(v: string): { index: number; size: number } | undefined {
  const m = /^([1-9][0-9]*)\/([1-9][0-9]*)$/.exec(v);
  return m ? { index: Number(m[1]), size: Number(m[2]) } : undefined;
}

/** The events after the first of a decision, as its first event carries them. */
export function encodeRest(events: readonly Event[]): string {
  return Buffer.from(JSON.stringify(events), "utf8").toString("base64url");
}

function decodeRest(v: string): Event[] | undefined {
  try {
    const docs = JSON.parse(Buffer.from(v, "base64url").toString("utf8")) as unknown;
    return Array.isArray(docs) ? docs.map((d) => eventFromJson(d)) : undefined;
  } catch {
    return undefined;
  }
}
