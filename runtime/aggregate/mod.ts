export {
  defineAggregate,
  isAggregate,
  aggregateProblems,
  type Aggregate,
  type AggregateEvent,
  type AggregateSpec,
  type EntityRef,
  type Recorded,
} from "./define.ts";
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
} from "./aggregate-store.ts";
