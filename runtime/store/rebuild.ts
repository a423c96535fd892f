import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { StoreSettings } from "../config/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { indexStreamFor } from "../topology.ts";
import { Indexer, type IndexerOptions } from "./indexer.ts";
import { deployedSettings, ensureEventStream, ensureIndexStream, StoreAccess } from "./stream.ts";
import type { IndexStatus, RebuildProgress } from "./types.ts";

/**
 * Re-creates the indexes from the event stream: drops the index stream (derived data; dropping
 * it also forgets the dedupe ids of the old entries, which a purge would keep), re-creates it,
 * then indexes every event from sequence 1 up to the last one stored once the new stream exists
 * (one bounded read). Events themselves are never touched. Routers running meanwhile index what
 * is stored after that point (their writes wait out the moment the stream is missing).
 */
export async function rebuildIndex(
  nc: NatsConnection,
  store: StoreSettings,
  opts: IndexerOptions & { onProgress?: (p: RebuildProgress) => void; timeoutMs?: number } = {},
): Promise<IndexStatus> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const events = await ensureEventStream(jsm, store, StoreAccess.Use);
  await retryTransient(() => orMissing(() => jsm.streams.delete(indexStreamFor(store.stream))));
  // derived data, re-created by this explicit step; its retention follows the events as stored
  await ensureIndexStream(jsm, deployedSettings(events.config, store), StoreAccess.Create);
  // read after the new stream exists: whatever is stored later is indexed by the routers
  const lastSeq = (await retryTransient(() => jsm.streams.info(store.stream))).state.last_seq;
  const indexer = new Indexer(nc, store, { storeAccess: StoreAccess.Use, ...opts });
  await indexer.indexRange(1, lastSeq, {
    timeoutMs: opts.timeoutMs ?? 30 * 60_000,
    onProgress: (done, total) => opts.onProgress?.({ done, total }),
  });
  return indexer.status();
}
