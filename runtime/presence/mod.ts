export type * from "./types.ts";
export { Heartbeat, newReplicaId, openPresenceBucket, presenceKey, HEARTBEAT_EVERY_MS, PRESENCE_TTL_MS } from "./heartbeat.ts";
export { Tally, tallied, TallyKeys } from "./tally.ts";
export { isLive, MISSED_BEATS, pidAlive, processGone, staleAfterMs, thisPlace, type ProcessPlace } from "./liveness.ts";
