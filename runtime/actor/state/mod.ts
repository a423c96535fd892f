export { StateStore } from "./store.ts";
export { Timers } from "./timers.ts";
export { TimerRelay } from "./timer-relay.ts";
export type { StatefulContext, StateHandle, StateSpec, TimerWhen, StagedEvent, StateRevision } from "./types.ts";
