export type * from "./types.ts";
export { BulkPublisher } from "./bulk.ts";
export { EventBus, type EventBusOptions, type NewEventInput } from "./bus.ts";
export { EventSchemas, defaultEventSchemaDir } from "./schemas.ts";
export { EventStore, DEFAULT_PAGE, type EventStoreOptions } from "./queries.ts";
export { Indexer, retireLegacyIndexer, type IndexerOptions } from "./indexer.ts";
export { rebuildIndex } from "./rebuild.ts";
export {
  ensureEventStream,
  ensureIndexStream,
  ensureStore,
  eventStreamConfig,
  indexStreamConfig,
  StoreAccess,
  EVENT_SUBJECTS,
} from "./stream.ts";
