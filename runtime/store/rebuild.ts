import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { StoreSettings } from "../config/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { Consumers, indexStreamFor } from "../topology.ts";
import { Indexer, type IndexerOptions } from "./indexer.ts";
import { deployedSettings, ensureEventStream, ensureIndexStream, StoreAccess } from "./stream.ts";
import type { IndexStatus, RebuildProgress } from "./types.ts";

/**
 * Re-creates the indexes from the event stream: drops the index stream (derived data; dropping
 * it also forgets the dedupe ids of the old entries, which a purge would keep) and the indexer's
 * durable, then indexes every event from sequence 1. Events themselves are never touched.
 * Other processes running an indexer pick up the new durable when they reconnect; stop them
 * first for a clean count.
 */
export async function rebuildIndex(
  nc: NatsConnection,
  store: StoreSettings,
  opts: IndexerOptions & { onProgress?: (p: RebuildProgress) => void; timeoutMs?: number } = {},
): Promise<IndexStatus> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const events = await ensureEventStream(jsm, store, StoreAccess.Use);
  await retryTransient(() => orMissing(() => jsm.consumers.delete(store.stream, Consumers.indexer)));
  await retryTransient(() => orMissing(() => jsm.streams.delete(indexStreamFor(store.stream))));
  // derived data, re-created by this explicit step; its retention follows the events as stored
  await ensureIndexStream(jsm, deployedSettings(events.config, store), StoreAccess.Create);
  const indexer = new Indexer(nc, store, { storeAccess: StoreAccess.Use, ...opts });
  const first = await indexer.status();
  const total = first.pending;
  return indexer.catchUp({
    timeoutMs: opts.timeoutMs ?? 30 * 60_000,
    onProgress: (s) => opts.onProgress?.({ done: Math.max(0, total - s.pending - s.ackPending), total }),
  });
}
