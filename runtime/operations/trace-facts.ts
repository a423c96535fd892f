import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Header } from "../events/headers.ts";
import { tokenFor } from "../events/subjects.ts";
import { Buckets, JetbusHeaders, Streams, Subjects } from "../topology.ts";
import { kvStream, parseJsonObject, readKvEntry } from "./kv-read.ts";
import { orMissing } from "../nats/missing.ts";
import { readStream } from "./read-stream.ts";
import { findSetAside } from "./set-aside.ts";
import type { DeadLetterFact, HandledFact, SetAsideFact, StoredEvent, TraceFacts } from "./types.ts";

/** Finds the stored events of one correlation (the store's getByCorrelationId). */
export type CorrelationLookup = (correlationId: string) => Promise<readonly StoredEvent[]>;

/** Actors whose idempotency bucket exists: the configured ones, plus any left over from an older config. */
export async function actorsWithMarkers(jsm: JetStreamManager): Promise<string[]> {
  const prefix = kvStream(Buckets.processed(""));
  const names: string[] = [];
  for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name.slice(prefix.length));
  return names.sort();
}

/** The markers `jetbus-processed-<actor>` holds for these events. */
export async function readMarkers(jsm: JetStreamManager, actors: readonly string[], eventIds: readonly string[]): Promise<HandledFact[]> {
  const reads = actors.flatMap((actor) =>
    eventIds.map(async (eventId): Promise<HandledFact | null> => {
      const entry = await readKvEntry(jsm, Buckets.processed(actor), tokenFor(eventId));
      if (!entry) return null;
      const v = parseJsonObject(entry.value);
      return {
        actor,
        eventId,
        ...(typeof v.at === "string"
          ? { at: v.at }
          : typeof v.at === "number"
            ? { at: new Date(v.at).toISOString() }
            : { at: entry.at.toISOString() }),
        ...(typeof v.attempts === "number" ? { attempts: v.attempts } : {}),
        ...(typeof v.replica === "string" ? { replica: v.replica } : {}),
      };
    }),
  );
  return (await Promise.all(reads)).filter((h): h is HandledFact => h !== null);
}

/** Dead letters (any actor) whose ce-id is one of these events; scans JETBUS_DLQ headers only. */
export async function readDeadLetters(nc: NatsConnection, jsm: JetStreamManager, eventIds: ReadonlySet<string>): Promise<DeadLetterFact[]> {
  const found: DeadLetterFact[] = [];
  await orMissing(() =>
    readStream(nc, jsm, Streams.DeadLetter, { filter: Subjects.deadLetterAll, headers_only: true, batch: 1000 }, (m) => {
      const id = m.headers?.get(Header.Id);
      if (!id || !eventIds.has(id)) return;
      const attempts = Number(m.headers?.get(JetbusHeaders.Attempts));
      const error = m.headers?.get(JetbusHeaders.Error);
      const errorCode = m.headers?.get(JetbusHeaders.ErrorCode);
      found.push({
        actor: m.headers?.get(JetbusHeaders.Actor) || m.subject.slice("dlq.".length),
        eventId: id,
        seq: m.seq,
        at: m.time.toISOString(),
        ...(Number.isFinite(attempts) && attempts > 0 ? { attempts } : {}),
        ...(error ? { error } : {}),
        ...(errorCode ? { errorCode } : {}),
      });
    }),
  );
  return found;
}

/** Everything trace shows about one correlation. `routedTo` comes from the routing plan when the caller has one. */
export async function gatherTraceFacts(
  nc: NatsConnection,
  jsm: JetStreamManager,
  opts: {
    correlationId: string;
    lookup: CorrelationLookup;
    actors: readonly string[];
    routedTo?: (e: StoredEvent) => readonly string[];
    storeStream?: string;
  },
): Promise<TraceFacts> {
  const events = await opts.lookup(opts.correlationId);
  const ids = events.map((e) => e.event.id);
  if (ids.length === 0) return { correlationId: opts.correlationId, events: [], handled: [], deadLetters: [] };
  const actors = [...new Set([...opts.actors, ...(await actorsWithMarkers(jsm))])];
  const seqs = new Set(events.flatMap((e) => (e.seq === undefined ? [] : [e.seq])));
  const [handled, deadLetters, aside] = await Promise.all([
    readMarkers(jsm, actors, ids),
    readDeadLetters(nc, jsm, new Set(ids)),
    findSetAside(nc, jsm, opts.storeStream ?? "EVENTS", { seqs, ids: new Set(ids) }),
  ]);
  const setAside: SetAsideFact[] = aside.map((a) => ({
    kind: a.kind,
    seq: a.seq,
    eventId: a.eventId,
    ...(a.originSeq ? { originSeq: a.originSeq } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
    ...(a.revision ? { revision: a.revision } : {}),
  }));
  const routedTo = opts.routedTo ? Object.fromEntries(events.map((e) => [e.event.id, opts.routedTo!(e)])) : undefined;
  return {
    correlationId: opts.correlationId,
    events,
    handled,
    deadLetters,
    ...(routedTo ? { routedTo } : {}),
    ...(setAside.length ? { setAside } : {}),
  };
}
