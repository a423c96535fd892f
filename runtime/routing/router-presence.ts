import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { Heartbeat, openPresenceBucket, presenceKey } from "../presence/heartbeat.ts";
import type { PresenceState } from "../presence/types.ts";

const ROUTER_NAME = "jetbus-router";

/** What a router replica reports on each beat, besides who it is. */
export type RouterFacts = Required<Pick<PresenceState, "inFlight" | "configRevision" | "orderedLane" | "counts">>;

export type RouterPresenceOptions = Readonly<{ nc: NatsConnection; replicas: number; replicaId: string; logger: Logger; everyMs?: number }>;

/** The heartbeat by which `jetbus status` and the console list a router replica, with the config revision it routes with. */
export function routerHeartbeat(o: RouterPresenceOptions, facts: () => RouterFacts): Heartbeat {
  return new Heartbeat(
    () => openPresenceBucket(o.nc, o.replicas),
    presenceKey("router", ROUTER_NAME, o.replicaId),
    () => ({ role: "router", name: ROUTER_NAME, replica: o.replicaId, ...facts() }),
    o.logger,
    o.everyMs,
  );
}
