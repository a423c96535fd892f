import { headers as natsHeaders } from "@nats-io/transport-node";
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { ActorSettings } from "../config/types.ts";
import { decodeEvent, Header } from "../events/codec.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { Streams, Subjects } from "../topology.ts";
import { inboxSubjectFor } from "./ordering.ts";

export type RefileResult = Readonly<{ scanned: number; moved: number }>;

/** The inbox partition a stored copy belongs in under `actor`'s settings now; an undecodable one stays where it is if that is read. */
function targetOf(actor: Pick<ActorSettings, "name" | "ordered">, m: StoredMsg): string {
  try {
    return inboxSubjectFor(actor, decodeEvent({ subject: m.subject, data: m.data, headers: m.header }).event);
  } catch {
    // the worker dead-letters it wherever it is read; a partition beyond the new count would never be read
    const k = Number(m.subject.slice(Subjects.inboxAll(actor.name).length - 1));
    return Number.isInteger(k) && k >= 0 && k < (actor.ordered?.partitions ?? 1) ? m.subject : Subjects.inbox(actor.name, 0);
  }
}

/**
 * Files every copy waiting in an ordered actor's inbox into the partition its key maps to now,
 * in stream order: run when the actor's durables change layout (unordered -> ordered, another
 * partition count), after the old durables are gone and before the new ones exist, so nothing
 * reads the inbox meanwhile.
 *
 * Nothing is lost: JETBUS_INBOX is a work queue, so a message leaves it only when acked; deleting
 * a durable leaves its pending and unacked messages in the stream. Each move publishes the copy
 * (same headers and body) to its partition first and deletes the original only after the inbox
 * acknowledged it: a crash in between leaves both, and the worker's processed marker skips the
 * second (at least once). The move's Nats-Msg-Id is `refile:<original sequence>`, so two processes
 * moving the same backlog at once store each copy once.
 *
 * Order: a copy already in its partition stays unless something was moved into that partition
 * before it in this pass (then it moves too, to stay behind it), so each partition ends up in the
 * original stream order. Only the messages stored when the pass starts are looked at.
 *
 * Cost: one get per waiting message, plus a publish and a delete per move; a layout change is a
 * restart-level event, never on the path of an event.
 */
export async function refileInbox(jsm: JetStreamManager, actor: Pick<ActorSettings, "name" | "ordered">): Promise<RefileResult> {
  const filter = Subjects.inboxAll(actor.name);
  const info = await retryTransient(() => jsm.streams.info(Streams.Inbox, { subjects_filter: filter }));
  const waiting = Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
  if (waiting === 0) return { scanned: 0, moved: 0 };
  const last = info.state.last_seq;
  const js = jsm.jetstream();
  const movedInto = new Set<string>();
  let scanned = 0;
  let moved = 0;
  for (let seq = info.state.first_seq; seq <= last;) {
    const from = seq;
    // the server accepts next_by_subj on the stream API too (the first message of the filter at or after seq)
    const m = await retryTransient(() =>
      orMissing(() => jsm.streams.getMessage(Streams.Inbox, { seq: from, next_by_subj: filter } as never)),
    );
    if (!m || m.seq > last) break;
    seq = m.seq + 1;
    scanned++;
    const target = targetOf(actor, m);
    if (target === m.subject && !movedInto.has(target)) continue;
    movedInto.add(target);
    const h = natsHeaders();
    for (const [k, v] of m.header ?? []) if (k !== Header.MsgId) for (const x of v) h.append(k, x);
    await retryTransient(() => js.publish(target, m.data, { headers: h, msgID: `refile:${m.seq}` }));
    // another process moving the same backlog may have deleted it first
    await retryTransient(() => orMissing(() => jsm.streams.deleteMessage(Streams.Inbox, m.seq, false)));
    moved++;
  }
  return { scanned, moved };
}
