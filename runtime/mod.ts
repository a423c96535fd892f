/**
 * The public API of the `jetbus` package: `import { defineActor, EventBus } from "jetbus"`.
 * Everything else under runtime/ is internal and may change between versions.
 */
// first: tsyringe (the container behind class handlers) refuses to load without the Reflect
// metadata polyfill, and the imports below load tsyringe
import "reflect-metadata";

// writing actors
export {
  defineActor,
  type ActorDefinition,
  type ActorMiddleware,
  type ActorSpec,
  type StatefulActorDefinition,
  type StatefulActorSpec,
} from "./actor/define.ts";
export type { StatefulContext, StateHandle, StateSpec, TimerWhen, StagedEvent } from "./actor/state/types.ts";
export { registerHandler, type HandlerSource } from "./actor/registry.ts";
export type { ActorContext, ActorHandler, HandlerClass, HandlerFn, FollowUpOptions, PublishedEvent } from "./actor/types.ts";
export { ActorTokens } from "./actor/tokens.ts";
export { Tokens } from "./app/tokens.ts";

// events
export type { Event, NewEvent, EventMap, EventData, EventType } from "./events/types.ts";
export { createEvent } from "./events/codec.ts";

// producing and querying
export { EventBus, type EventBusOptions, type NewEventInput } from "./store/bus.ts";
export { EventStore, type EventStoreOptions } from "./store/queries.ts";
export type { PublishOptions, PublishResult, StoredEvent, HistoryFilter, TypeQuery } from "./store/types.ts";

// event sourcing: aggregates (decide/evolve deciders on per-entity subjects of the event store)
/** `defineAggregate({ name, initial, evolve, decide, snapshots? })`: an event-sourced entity type (runtime/aggregate). */
export {
  defineAggregate,
  type Aggregate,
  type AggregateEvent,
  type AggregateSpec,
  type EntityRef,
  type Recorded,
} from "./aggregate/define.ts";
/** `execute(nc, aggregate, id, command)` and time travel (`aggregateHistory`) on a connection; `AggregateStore` for store settings. */
export {
  AggregateStore,
  aggregateHistory,
  execute,
  type AggregateStoreOptions,
  type EntityHistory,
  type EntityState,
  type ExecuteOptions,
  type ExecuteResult,
  type HistoryEntry,
  type PointInTime,
} from "./aggregate/aggregate-store.ts";

// event versions: upcasters bring events of older versions up to their type's latest when they are read
/** `defineUpcasters({ Type: { 1: (v1) => v2 } })`: the default export of the config's `upcasters` module. */
export { defineUpcasters, type Upcaster, type UpcasterDefinition, type UpcasterTable } from "./events/versions/upcasters.ts";
/** `useUpcasters(def)` sets this process's upcasters from code (an embedding service); `latestVersionOf(type)` is what new events are stamped with. */
export { clearUpcasters, latestVersionOf, useUpcasters } from "./events/versions/registry.ts";

// notifications: event types sent with a core NATS publish on notify.<type>, never stored, handled by the
// actors the rules route them to (one process of each), fire-and-forget (README "Notifications").
// EventBus.notify(type, data) sends one; EventBus.publish sends the types its `notifications` option names.
/** Which types a config declares notifications (`notifications.types`), for `new EventBus(nc, { notifications })`. */
export { notificationTypesOf } from "./notify/declared.ts";
export type { NotificationTypes } from "./store/bus.ts";

// projections: keyed read models built from the store, exactly once per event, rebuilt on demand (README "Projections")
/** A projection module's default export: `defineProjection({ events, key, initial, evolve })`. */
export { defineProjection, type ProjectionDefinition, type ProjectionSpec, type ProjectionKey } from "./projection/define.ts";
/** Reads a projection from code: `(await ProjectionReader.open(nc, "balances")).get("acct-1")`, following rebuilds. */
export { ProjectionReader, type ProjectionEntry, type ProjectionReaderOptions } from "./projection/reader.ts";
/** Each projection's version, position, lag and live runners, as `jetbus projection status` shows them. */
export { projectionStatuses, type ProjectionStatus, type ProjectionRunnerFact } from "./projection/status.ts";
/** Runs projections inside a service (what `jetbus projection run` does); startJetbus runs the configured ones already. */
export { startProjections, type RunningProjections } from "./projection/start.ts";
export type { RunnerProgress } from "./projection/runner.ts";

// config
export { loadConfig, configFrom, DEFAULT_CONFIG_FILE } from "./config/load.ts";
export { validateConfig } from "./config/validate.ts";
export type { JetbusConfig, ActorSettings, NotificationSettings, ProjectionSettings } from "./config/types.ts";

// running jetbus inside a service
export { startJetbus, type Jetbus, type StartJetbusOptions } from "./app/embed.ts";
export { startRuntime, type Runtime, type RuntimeOptions } from "./app/bootstrap.ts";
export { startServices, type Services, type ServiceSelection } from "./app/services.ts";
export { connectNats } from "./nats/connect.ts";

// errors: every class with its stable `code`
export * from "./errors.ts";
