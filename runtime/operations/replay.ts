import { randomBytes } from "node:crypto";
import { DeliverPolicy, jetstream, type JetStreamManager, type JsMsg, type PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import { decodeEvent, encodeEvent } from "../events/codec.ts";
import type { Event } from "../events/types.ts";
import { upcast } from "../events/versions/upcast.ts";
import { NotFoundError, PublishError } from "../errors.ts";
import { JetbusHeaders, Streams } from "../topology.ts";
import { orMissing } from "../nats/missing.ts";
import { readStream } from "./read-stream.ts";
import { describePoint, type ReplayPoint } from "./replay-range.ts";

/** What one replay needs to know about its actor, independent of how routing and inboxes are implemented. */
export type ReplayTarget = Readonly<{
  actor: string;
  /** The copy the actor should get (possibly transformed, with its inbox subject when routing knows it), or null when the event is not routed to it. */
  select(event: Event, seq: number): Readonly<{ event: Event; rule?: string; subject?: string }> | null;
  /** The inbox subject of that copy: `actors.<actor>.<partition>`. */
  subjectFor(event: Event): string;
}>;

export type ReplayOptions = Readonly<{
  storeStream: string;
  from: ReplayPoint;
  to?: ReplayPoint;
  /** Reusing a run id inside the inbox duplicate window makes a re-run a no-op (resume after a crash). */
  runId?: string;
  /** Publishes in flight at once. */
  window?: number;
  onProgress?: (done: number, total: number) => void;
  /** Creates JETBUS_INBOX when it does not exist yet (the actor area's ensureInbox). */
  ensureInbox?: () => Promise<void>;
}>;

export type ReplaySummary = Readonly<{
  runId: string;
  actor: string;
  from: string;
  to?: string;
  /** Events read from the store in the range. */
  scanned: number;
  /** Copies published to the actor's inbox. */
  replayed: number;
  /** Of those, copies the inbox already held from an earlier run with the same run id. */
  duplicates: number;
  /** Events the current rules do not route to the actor. */
  skipped: number;
  /** Stored messages that do not decode as events. */
  malformed: number;
  firstSeq?: number;
  lastSeq?: number;
}>;

export function newReplayRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}-${randomBytes(3).toString("hex")}`;
}

/** Nats-Msg-Id of a replayed copy: unique per run, so inbox dedupe keeps the original copy's id free. */
export const replayMsgId = (eventId: string, actor: string, runId: string) => `${eventId}:${actor}:replay:${runId}`;

function wire(m: Pick<JsMsg, "subject" | "data" | "headers" | "seq" | "time">, stream: string) {
  return { subject: m.subject, data: m.data, headers: m.headers, seq: m.seq, timestamp: m.time, stream };
}

/**
 * Re-sends stored history to ONE actor's inbox: every event in [from, to] that the current
 * rules route to it (or every event, if the target selects all), keeping the event id and
 * marking the copy with the run id. Other actors' inboxes are never touched.
 */
export async function replayToActor(
  nc: NatsConnection,
  jsm: JetStreamManager,
  target: ReplayTarget,
  opts: ReplayOptions,
): Promise<ReplaySummary> {
  const runId = opts.runId ?? newReplayRunId();
  const store = await orMissing(() => jsm.streams.info(opts.storeStream));
  if (!store) throw new NotFoundError(`event store stream ${opts.storeStream} not created yet: nothing to replay`);
  // a fresh deployment: create the inbox exactly as the router or an actor would on start
  if (!(await orMissing(() => jsm.streams.info(Streams.Inbox)))) {
    if (!opts.ensureInbox)
      throw new NotFoundError(`stream ${Streams.Inbox} not created yet: start the router or an actor once, then replay`);
    await opts.ensureInbox();
  }
  const js = jetstream(nc);
  const from = opts.from;
  const to = opts.to;
  const endSeq = to && "seq" in to ? Math.min(to.seq, store.state.last_seq) : store.state.last_seq;
  const startSeq = "seq" in from ? Math.max(from.seq, store.state.first_seq) : undefined;
  let scanned = 0,
    replayed = 0,
    duplicates = 0,
    skipped = 0,
    malformed = 0;
  let firstSeq: number | undefined, lastSeq: number | undefined;
  let inflight: Promise<void>[] = [];
  const window = opts.window ?? 256;
  const flush = async () => {
    const batch = inflight;
    inflight = [];
    await Promise.all(batch);
  };
  const track = (p: Promise<PubAck>, eventId: string) =>
    inflight.push(
      p.then(
        (ack) => {
          if (ack.duplicate) duplicates++;
        },
        (err) => {
          throw new PublishError(`replay of event ${eventId} to ${target.actor} failed: ${(err as Error).message}`, {
            cause: err,
            retryable: true,
          });
        },
      ),
    );
  await readStream(
    nc,
    jsm,
    opts.storeStream,
    {
      filter: `${EVENTS_PREFIX}.>`,
      untilSeq: endSeq,
      ...(startSeq !== undefined
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: (from as { time: Date }).time.toISOString() }),
    },
    async (m) => {
      if (to && "time" in to && m.time > to.time) return false;
      scanned++;
      firstSeq ??= m.seq;
      lastSeq = m.seq;
      let event: Event;
      try {
        // brought to its latest version before the current rules select and transform it, as the router does
        event = upcast(decodeEvent(wire(m, opts.storeStream)).event);
      } catch {
        malformed++;
        return;
      }
      const copy = target.select(event, m.seq);
      if (!copy) {
        skipped++;
      } else {
        const out = encodeEvent(copy.event, {
          subject: copy.subject ?? target.subjectFor(copy.event),
          msgId: replayMsgId(event.id, target.actor, runId),
        });
        out.headers.set(JetbusHeaders.OriginSeq, String(m.seq));
        out.headers.set(JetbusHeaders.Replay, runId);
        if (copy.rule) out.headers.set(JetbusHeaders.Rule, copy.rule);
        track(js.publish(out.subject, out.data, { headers: out.headers }), event.id);
        replayed++;
        if (inflight.length >= window) await flush();
      }
      opts.onProgress?.(m.seq - (firstSeq ?? m.seq) + 1, Math.max(1, endSeq - (firstSeq ?? m.seq) + 1));
    },
  );
  await flush();
  return {
    runId,
    actor: target.actor,
    from: describePoint(from),
    ...(to ? { to: describePoint(to) } : {}),
    scanned,
    replayed,
    duplicates,
    skipped,
    malformed,
    ...(firstSeq !== undefined ? { firstSeq, lastSeq } : {}),
  };
}
