import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { Buckets, Consumers, Streams, Subjects } from "../topology.ts";
import { parseJsonObject, readKvEntries, readKvEntry } from "./kv-read.ts";
import { orMissing } from "../nats/missing.ts";
import { ROUTES_KEY } from "./live-config.ts";
import { durablesOf } from "./status.ts";
import { countSetAside } from "./set-aside.ts";
import { processGone } from "../presence/liveness.ts";
import type { ConsumerFact, NatsFact, StatusFacts, StreamPlacementFact } from "./types.ts";

/** The router replica whose heartbeat says it is pinned to the ordered lane; null when none does. */
function orderedLaneHolderOf(
  presence: ReadonlyArray<{ key: string; value: Record<string, unknown>; gone?: boolean }> | null,
): string | null {
  const pinned = presence?.find((e) => !e.gone && e.key.startsWith("router.") && e.value.orderedLane === true);
  return typeof pinned?.value.replica === "string" ? pinned.value.replica : null;
}

async function consumerFact(jsm: JetStreamManager, stream: string, durable: string): Promise<ConsumerFact | null> {
  const ci = await orMissing(() => jsm.consumers.info(stream, durable));
  return ci ? { pending: ci.num_pending, ackPending: ci.num_ack_pending, redelivered: ci.num_redelivered } : null;
}

/** A stream's replica group as its leader reports it (nothing for a stream not read). */
function placementOf(info: StreamInfo | null): StreamPlacementFact[] {
  const c = info?.cluster;
  if (!info || !c) return [];
  return [
    {
      stream: info.config.name,
      ...(c.name ? { cluster: c.name } : {}),
      ...(c.leader ? { leader: c.leader } : {}),
      peers: (c.replicas ?? []).map((p) => ({
        name: p.name,
        current: p.current,
        ...(p.offline ? { offline: true } : {}),
        activeMs: Math.round((p.active ?? 0) / 1e6),
      })),
    },
  ];
}

function natsFact(nc: NatsConnection, infos: readonly (StreamInfo | null)[]): NatsFact {
  return { connectedTo: nc.info?.server_name ?? null, placements: infos.flatMap(placementOf) };
}

/** Reads every fact `jetbus status` shows; never creates anything, and a missing piece is recorded as missing. */
export async function gatherStatusFacts(nc: NatsConnection, jsm: JetStreamManager, config: JetbusConfig): Promise<StatusFacts> {
  const actors = config.actors.map((a) => ({
    name: a.name,
    replicas: a.replicas,
    ...(a.ordered ? { partitions: a.ordered.partitions } : {}),
    ...(a.delivery === "direct" ? { direct: true } : {}),
  }));
  const storeStream = config.store.stream;
  const [presenceEntries, inbox, dlqInfo, storeInfo, router, orderedRouter, indexer, routes, setAside] = await Promise.all([
    readKvEntries(nc, jsm, Buckets.Presence),
    orMissing(() => jsm.streams.info(Streams.Inbox)),
    // subjects_filter makes the server count messages per subject
    orMissing(() => jsm.streams.info(Streams.DeadLetter, { subjects_filter: Subjects.deadLetterAll })),
    orMissing(() => jsm.streams.info(storeStream)),
    consumerFact(jsm, storeStream, Consumers.router),
    consumerFact(jsm, storeStream, Consumers.routerOrdered),
    consumerFact(jsm, storeStream, Consumers.indexer),
    readKvEntry(jsm, Buckets.Config, ROUTES_KEY),
    countSetAside(jsm),
  ]);
  const presence =
    presenceEntries?.map((e) => {
      const value = parseJsonObject(e.value);
      // an entry of this host whose process is gone (kill -9): not live, whatever its age
      return { key: e.key, value, at: e.at, ...(processGone(value) ? { gone: true } : {}) };
    }) ?? null;
  const inboxConsumers: Record<string, ConsumerFact | null> = {};
  // a direct actor's store durable is read even before the inbox exists
  const durables = actors.flatMap((a) =>
    durablesOf(a).map((d) => ({ d, stream: d === Consumers.direct(a.name) ? storeStream : inbox ? Streams.Inbox : null })),
  );
  const facts = await Promise.all(durables.map(({ d, stream }) => (stream ? consumerFact(jsm, stream, d) : Promise.resolve(null))));
  durables.forEach(({ d, stream }, i) => {
    if (stream) inboxConsumers[d] = facts[i]!;
  });
  return {
    at: new Date(),
    actors,
    presence,
    inboxExists: inbox !== null,
    inboxConsumers,
    dlq: dlqInfo ? { ...(dlqInfo.state.subjects ?? {}) } : null,
    store: storeInfo
      ? { stream: storeStream, messages: storeInfo.state.messages, lastSeq: storeInfo.state.last_seq, bytes: storeInfo.state.bytes }
      : { stream: storeStream, missing: true },
    router,
    orderedRouter,
    orderedLaneHolder: orderedLaneHolderOf(presence),
    indexer,
    configRevision: routes?.revision ?? null,
    setAside,
    nats: natsFact(nc, [storeInfo, inbox, dlqInfo]),
  };
}
