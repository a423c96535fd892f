import { jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { ActorSettings } from "../config/types.ts";
import { decodeEvent, Header } from "../events/codec.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import { isNotFound } from "../nats/errors.ts";
import { JetbusHeaders, Streams, Subjects } from "../topology.ts";
import { inboxSubjectFor } from "./ordering.ts";
import { errorCodeOf, errorMessageOf } from "./retry.ts";
import type { DeadLetter } from "./types.ts";

const DEAD_LETTER_HEADERS = [JetbusHeaders.Actor, JetbusHeaders.Attempts, JetbusHeaders.Error, JetbusHeaders.ErrorCode];

/**
 * Stores the inbox message as it arrived (same body, same ce-* headers) on `dlq.<actor>` with why
 * it failed, and waits for JetStream's ack: only then may the caller terminate the original.
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  msg: JsMsg,
  o: { actor: string; eventId: string; attempts: number; error: unknown },
): Promise<void> {
  const h = natsHeaders();
  if (msg.headers) for (const k of msg.headers.keys()) if (k !== Header.MsgId) h.set(k, msg.headers.get(k));
  h.set(JetbusHeaders.Actor, o.actor);
  h.set(JetbusHeaders.Attempts, String(o.attempts));
  h.set(JetbusHeaders.Error, errorMessageOf(o.error) || "(no message)");
  h.set(JetbusHeaders.ErrorCode, errorCodeOf(o.error));
  // the inbox sequence makes the id unique per dead-lettering, yet a retried publish of the same one is deduped
  await js.publish(Subjects.deadLetter(o.actor), msg.data, { headers: h, msgID: `${o.eventId}:${o.actor}:dlq:${msg.seq}` });
}

function toDeadLetter(seq: number, subject: string, h: MsgHdrs | undefined, time: Date): DeadLetter {
  const get = (k: string) => h?.get(k) ?? "";
  const origin = Number(get(JetbusHeaders.OriginSeq));
  return {
    dlqSeq: seq,
    actor: get(JetbusHeaders.Actor) || subject.slice("dlq.".length),
    eventId: get(Header.Id) || get(Header.MsgId),
    type: get(Header.Type),
    attempts: Number(get(JetbusHeaders.Attempts)) || 0,
    error: get(JetbusHeaders.Error),
    errorCode: get(JetbusHeaders.ErrorCode),
    ...(origin > 0 ? { originSeq: origin } : {}),
    time,
  };
}

/** Reads the dead letters, all or one actor's, oldest first, through an ordered consumer (nothing is created on the server that outlives the call). */
export async function listDeadLetters(nc: NatsConnection, opts: { actor?: string; limit?: number } = {}): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  try {
    const info = await jsm.streams.info(Streams.DeadLetter);
    if (info.state.messages === 0) return [];
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const js = jetstream(nc);
  const consumer = await js.consumers.get(Streams.DeadLetter, {
    filter_subjects: opts.actor ? Subjects.deadLetter(opts.actor) : Subjects.deadLetterAll,
  });
  const out: DeadLetter[] = [];
  const limit = opts.limit ?? Number.MAX_SAFE_INTEGER;
  try {
    while (out.length < limit) {
      const m = await consumer.next({ expires: 2000 });
      if (!m) break;
      out.push(toDeadLetter(m.seq, m.subject, m.headers, m.time));
      if (m.info.pending === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return out;
}

export type ReplaySelector = Readonly<{ id?: string; actor?: string }>;
export type ReplayedDeadLetter = Readonly<{ dlqSeq: number; actor: string; eventId: string; subject: string; inboxSeq: number }>;

/**
 * Sends dead letters back to their actor's inbox: by event id (or DLQ sequence), or every one of
 * an actor. The event keeps its id; the inbox copy gets a fresh Nats-Msg-Id so dedupe lets it in,
 * and the dead letter is deleted only after the inbox acked the copy.
 */
export async function replayDeadLetters(
  nc: NatsConnection,
  actors: readonly ActorSettings[],
  sel: ReplaySelector,
  opts: { onProgress?: (done: number, total: number) => void } = {},
): Promise<ReplayedDeadLetter[]> {
  if (!sel.id && !sel.actor) throw new UsageError("dlq replay needs an event id (or DLQ sequence) or --actor");
  const all = await listDeadLetters(nc, { actor: sel.actor });
  const chosen = sel.id ? all.filter((d) => d.eventId === sel.id || String(d.dlqSeq) === sel.id) : all;
  if (chosen.length === 0)
    throw new NotFoundError(
      sel.id
        ? `no dead letter with event id or sequence ${sel.id}${sel.actor ? ` for actor ${sel.actor}` : ""}`
        : `no dead letters for actor ${sel.actor}`,
      "`jetbus dlq list` shows each dead letter's event id and sequence",
    );
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const done: ReplayedDeadLetter[] = [];
  for (const [i, d] of chosen.entries()) {
    opts.onProgress?.(i, chosen.length);
    const settings = actors.find((a) => a.name === d.actor);
    if (!settings)
      throw new NotFoundError(
        `actor ${d.actor} of dead letter ${d.dlqSeq} is not in the config`,
        "pass --config with the config that defines the actor, or add it back, then replay",
      );
    const stored = await jsm.streams.getMessage(Streams.DeadLetter, { seq: d.dlqSeq });
    if (!stored) continue; // replayed by someone else meanwhile
    const h = natsHeaders();
    if (stored.header)
      for (const k of stored.header.keys())
        if (!DEAD_LETTER_HEADERS.includes(k as never) && k !== Header.MsgId) h.set(k, stored.header.get(k));
    // the event may have been handled since by another copy (a replay, the router's copy of an id stored again): the actor checks its marker
    h.set(JetbusHeaders.DupCheck, "1");
    const { event } = decodeEvent({ subject: stored.subject, data: stored.data, headers: stored.header });
    const subject = inboxSubjectFor(settings, event);
    const ack = await js.publish(subject, stored.data, { headers: h, msgID: `${event.id}:${d.actor}:replay:${d.dlqSeq}` });
    await jsm.streams.deleteMessage(Streams.DeadLetter, d.dlqSeq, false);
    done.push({ dlqSeq: d.dlqSeq, actor: d.actor, eventId: event.id, subject, inboxSeq: ack.seq });
  }
  opts.onProgress?.(chosen.length, chosen.length);
  return done;
}
