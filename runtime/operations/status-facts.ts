import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { Buckets, Consumers, Streams, Subjects } from "../topology.ts";
import { kvStream, parseJsonObject, readKvBucket, readKvEntry } from "./kv-read.ts";
import { isNoAnswer, orNoAnswer, type NoAnswer } from "../nats/missing.ts";
import { ROUTES_KEY } from "./live-config.ts";
import { durablesOf } from "./status.ts";
import { processGone } from "../presence/liveness.ts";
import type { ConsumerFact, NatsFact, StatusFacts, StreamPlacementFact } from "./types.ts";

/** The router replica whose heartbeat says it is pinned to the ordered lane; null when none does. */
function orderedLaneHolderOf(
  presence: ReadonlyArray<{ key: string; value: Record<string, unknown>; gone?: boolean }> | null,
): string | null {
  const pinned = presence?.find((e) => !e.gone && e.key.startsWith("router.") && e.value.orderedLane === true);
  return typeof pinned?.value.replica === "string" ? pinned.value.replica : null;
}

async function consumerFact(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerFact | null | NoAnswer> {
  const ci = await orNoAnswer(() => jsm.consumers.info(stream, durable));
  if (!ci || isNoAnswer(ci)) return ci;
  return { pending: ci.num_pending, ackPending: ci.num_ack_pending, redelivered: ci.num_redelivered };
}

/** The value of a read that answered (null for missing or no answer). */
const answered = <T>(v: T | null | NoAnswer): T | null => (isNoAnswer(v) ? null : v);

/** A stream's replica group as its leader reports it (nothing for a stream not read). */
function placementOf(info: StreamInfo | null): StreamPlacementFact[] {
  const c = info?.cluster;
  if (!info || !c) return [];
  const since = c.leader_since ? new Date(c.leader_since) : null;
  return [
    {
      stream: info.config.name,
      ...(c.name ? { cluster: c.name } : {}),
      ...(c.leader ? { leader: c.leader } : {}),
      ...(since && !Number.isNaN(since.getTime()) ? { leaderSince: since } : {}),
      peers: (c.replicas ?? []).map((p) => ({
        name: p.name,
        current: p.current,
        ...(p.offline ? { offline: true } : {}),
        activeMs: Math.round((p.active ?? 0) / 1e6),
      })),
    },
  ];
}

/**
 * The nodes as the replica groups of every stream status reads see them. One group is not enough:
 * while a group whose leader was on the killed node elects a new one (3.4 s measured on 2.15.1 with
 * 3 idle nodes), its info gets no answer; the other groups, led elsewhere, still count the dead
 * node's silence. Stream info is all a non-system user can ask: the meta group's peers are
 * only in $SYS server requests.
 */
function natsFact(nc: NatsConnection, reads: readonly Readonly<{ stream: string; info: StreamInfo | null | NoAnswer }>[]): NatsFact {
  const unanswered = reads.filter((r) => isNoAnswer(r.info)).map((r) => r.stream);
  return {
    connectedTo: nc.info?.server_name ?? null,
    placements: reads.flatMap((r) => placementOf(answered(r.info))),
    ...(unanswered.length ? { unanswered } : {}),
  };
}

/**
 * Reads every fact `jetbus status` shows; never creates anything. A missing piece is recorded as
 * missing, one the cluster did not answer in time as a NoAnswer: one stream's leader election
 * must not take the whole status down with it.
 */
export async function gatherStatusFacts(nc: NatsConnection, jsm: JetStreamManager, config: JetbusConfig): Promise<StatusFacts> {
  const actors = config.actors.map((a) => ({
    name: a.name,
    replicas: a.replicas,
    ...(a.ordered ? { partitions: a.ordered.partitions } : {}),
    ...(a.delivery === "direct" ? { direct: true } : {}),
  }));
  const storeStream = config.store.stream;
  const [presenceBucket, inbox, dlqInfo, storeInfo, router, orderedRouter, indexer, routes, quarantine, unrouted] = await Promise.all([
    orNoAnswer(() => readKvBucket(jsm, Buckets.Presence)),
    orNoAnswer(() => jsm.streams.info(Streams.Inbox)),
    // subjects_filter makes the server count messages per subject
    orNoAnswer(() => jsm.streams.info(Streams.DeadLetter, { subjects_filter: Subjects.deadLetterAll })),
    orNoAnswer(() => jsm.streams.info(storeStream)),
    consumerFact(jsm, storeStream, Consumers.router),
    consumerFact(jsm, storeStream, Consumers.routerOrdered),
    consumerFact(jsm, storeStream, Consumers.indexer),
    orNoAnswer(() => readKvEntry(jsm, Buckets.Config, ROUTES_KEY)),
    orNoAnswer(() => jsm.streams.info(Streams.Quarantine)),
    orNoAnswer(() => jsm.streams.info(Streams.Unrouted)),
  ]);
  const presence = isNoAnswer(presenceBucket)
    ? presenceBucket
    : (presenceBucket?.entries.map((e) => {
        const value = parseJsonObject(e.value);
        // an entry of this host whose process is gone (kill -9): not live, whatever its age
        return { key: e.key, value, at: e.at, ...(processGone(value) ? { gone: true } : {}) };
      }) ?? null);
  const inboxConsumers: Record<string, ConsumerFact | null | NoAnswer> = {};
  // a direct actor's store durable is read even before the inbox exists; with no answer about the inbox, its durables are unknown too
  const durables = actors.flatMap((a) =>
    durablesOf(a).map((d) => ({ d, stream: d === Consumers.direct(a.name) ? storeStream : inbox ? Streams.Inbox : null })),
  );
  const facts = await Promise.all(
    durables.map(({ d, stream }) =>
      isNoAnswer(inbox) && stream === Streams.Inbox
        ? Promise.resolve(inbox)
        : stream
          ? consumerFact(jsm, stream, d)
          : Promise.resolve(null),
    ),
  );
  durables.forEach(({ d, stream }, i) => {
    if (stream) inboxConsumers[d] = facts[i]!;
  });
  const count = (info: StreamInfo | null | NoAnswer) => (isNoAnswer(info) ? info : (info?.state.messages ?? null));
  return {
    at: new Date(),
    actors,
    presence,
    inboxExists: isNoAnswer(inbox) ? inbox : inbox !== null,
    inboxConsumers,
    dlq: isNoAnswer(dlqInfo) ? dlqInfo : dlqInfo ? { ...(dlqInfo.state.subjects ?? {}) } : null,
    store: isNoAnswer(storeInfo)
      ? { stream: storeStream, unanswered: storeInfo }
      : storeInfo
        ? { stream: storeStream, messages: storeInfo.state.messages, lastSeq: storeInfo.state.last_seq, bytes: storeInfo.state.bytes }
        : { stream: storeStream, missing: true },
    router,
    orderedRouter,
    orderedLaneHolder: orderedLaneHolderOf(answered(presence)),
    indexer,
    configRevision: isNoAnswer(routes) ? routes : (routes?.revision ?? null),
    setAside: { quarantine: count(quarantine), unrouted: count(unrouted) },
    nats: natsFact(nc, [
      { stream: storeStream, info: storeInfo },
      { stream: Streams.Inbox, info: inbox },
      { stream: Streams.DeadLetter, info: dlqInfo },
      { stream: kvStream(Buckets.Presence), info: isNoAnswer(presenceBucket) ? presenceBucket : (presenceBucket?.info ?? null) },
      { stream: Streams.Quarantine, info: quarantine },
      { stream: Streams.Unrouted, info: unrouted },
    ]),
  };
}
