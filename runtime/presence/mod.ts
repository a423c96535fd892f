export type * from "./types.ts";
export { Heartbeat, newReplicaId, openPresenceBucket, presenceKey, HEARTBEAT_EVERY_MS, PRESENCE_TTL_MS } from "./heartbeat.ts";
export { Tally, tallied, TallyKeys } from "./tally.ts";
