import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { StoreSettings } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { EventStore } from "../store/queries.ts";
import { Indexer } from "../store/indexer.ts";
import { orMissing } from "../nats/missing.ts";
import type { CorrelationLookup } from "./trace-facts.ts";

/**
 * The store's correlation query, after indexing whatever is still pending so a trace sees events
 * published a moment ago. On a server where the store was never created it finds nothing
 * instead of creating streams.
 */
export function storeCorrelationLookup(
  nc: NatsConnection,
  jsm: JetStreamManager,
  store: StoreSettings,
  logger?: Logger,
): CorrelationLookup {
  return async (correlationId) => {
    if (!(await orMissing(() => jsm.streams.info(store.stream)))) return [];
    const indexer = new Indexer(nc, store, logger ? { logger } : {});
    if ((await indexer.lag()) > 0) await indexer.catchUp({ timeoutMs: 60_000 });
    return new EventStore(nc, { stream: store.stream, ...(logger ? { logger } : {}) }).getByCorrelationId(correlationId);
  };
}
