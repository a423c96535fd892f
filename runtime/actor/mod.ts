export type * from "./types.ts";
export {
  ensureInbox,
  ensureInboxStreams,
  ensureActorConsumers,
  InboxLayout,
  inboxStreamConfig,
  deadLetterStreamConfig,
  actorConsumerConfigs,
} from "./inbox.ts";
export { inboxSubjectFor, partitionFor, orderingKeyOf, consumersOf } from "./ordering.ts";
export { ActorWorker, DEFAULT_GRACE_MS, type ActorWorkerOptions, type StopResult } from "./worker.ts";
export { startActors, prepareActors, selectActors, type PreparedActors, type RunningActors, type StartActorsOptions } from "./start.ts";
export { registerHandler, registeredHandler, registeredHandlers, type HandlerSource } from "./registry.ts";
export { defineActor, isActorDefinition, type ActorDefinition, type ActorMiddleware, type ActorSpec } from "./define.ts";
export { loadActorModule, handlerSourceFor, checkActorModules } from "./module-loader.ts";
export { resolveHandler } from "./resolve.ts";
export { ActorTokens } from "./tokens.ts";
export { createContext, originSeqOf, type PublishEventFn } from "./context.ts";
export { decideFailure, backoffDelayMs, isTerminal, NON_RETRYABLE_CODES, errorCodeOf } from "./retry.ts";
export { publishDeadLetter, listDeadLetters, replayDeadLetters, type ReplaySelector, type ReplayedDeadLetter } from "./dead-letter.ts";
export { ProcessedMarkers, markerKeyOf } from "./idempotency.ts";
