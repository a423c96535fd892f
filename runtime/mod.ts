/**
 * The public API of the `jetbus` package: `import { createJetbus, defineActor } from "jetbus"`.
 * createJetbus, defineActor and the definers of aggregates, projections and upcasters, with their types; the error classes are `jetbus/errors`, the
 * tsyringe tokens for class handlers `jetbus/di`. Everything else under runtime/ is internal and
 * may change between versions. Importing this module changes no global (no Reflect polyfill,
 * no handler registered): api/jetbus.api.md is the surface, checked by `npm run api-report`.
 */

// embedding: one factory returning publish, the store's queries, start and stop
export { createJetbus, type EventStore, type Jetbus, type JetbusOptions, type StartOptions } from "./app/embed.ts";

// writing actors
export {
  defineActor,
  type ActorDefinition,
  type ActorMiddleware,
  type ActorSpec,
  type StatefulActorDefinition,
  type StatefulActorSpec,
} from "./actor/define.ts";
export type { ActorContext, ActorHandler, HandlerClass, HandlerFn } from "./actor/types.ts";
export type { StatefulContext, StateSpec } from "./actor/state/types.ts";

// events
export type { Event, EventData, EventMap, EventType } from "./events/types.ts";
export type { HistoryFilter, PublishOptions, PublishResult, StoredEvent, TypeQuery } from "./store/types.ts";

// config
export type { ActorSettings, JetbusConfig, JetbusConfigInput } from "./config/types.ts";

// event sourcing, projections and event versions: the modules a config names export these
// (`aggregates[].module`, `projections[].module`, `upcasters`); `Jetbus.execute`, `history` and
// `projection` use them from code
export { defineAggregate, type Aggregate, type AggregateEvent, type AggregateSpec } from "./aggregate/define.ts";
export type { EntityHistory, ExecuteOptions, ExecuteResult, PointInTime } from "./aggregate/aggregate-store.ts";
export { defineProjection, type ProjectionDefinition, type ProjectionSpec, type ProjectionKey } from "./projection/define.ts";
export type { ProjectionEntry } from "./projection/reader.ts";
export { defineUpcasters, type Upcaster, type UpcasterDefinition, type UpcasterTable } from "./events/versions/upcasters.ts";
