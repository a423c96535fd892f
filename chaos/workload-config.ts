// The workload's names and its jetbus config: one event type routed to an unordered and an
// ordered actor, both handled by chaos/effect-actor.ts, and to a stateful counter
// (chaos/counter-actor.ts), on a 3-replica store; and the commanders of the aggregate
// (chaos/commander.ts on chaos/account.ts), whose events no rule routes (they go to `unrouted`).
import { fileURLToPath } from "node:url";

export const EVENT_TYPE = "ChaosEvent";
export const Actors = { Plain: "chaos-plain", Ordered: "chaos-ordered", Counter: "chaos-counter" } as const;
/** The actors that write effect files (the counter's effect is its state). */
export const ACTORS = [Actors.Plain, Actors.Ordered];
/** The 2 `jetbus actor` processes each actor runs as (role names, as in chaos/processes.ts). */
export const actorProcesses = (actor: string): string[] => [1, 2].map((i) => `${actor}-${i}`);
/** The processes executing commands on the accounts: two, so that their appends conflict. */
export const COMMANDERS = ["commander-1", "commander-2"];
/** The id of account `i` of chaos/account.ts. */
export const accountId = (i: number): string => `acct-${i}`;
/** Partitions of the ordered actor: fewer than the publisher's keys, so partitions hold several keys. */
export const ORDERED_PARTITIONS = 8;

const effectModule = fileURLToPath(new URL("./effect-actor.ts", import.meta.url));
const counterModule = fileURLToPath(new URL("./counter-actor.ts", import.meta.url));

/**
 * ack_wait 10 s (default 30 s): a killed actor's unacked event comes back within the run's
 * recovery pauses. Retries fast (250 ms) so a handling failed by a fault does not wait long.
 */
export function workloadConfig(servers: readonly string[]): Record<string, unknown> {
  const actor = (name: string) => ({
    name,
    module: effectModule,
    ack_wait: "10s",
    concurrency: 8,
    retry: { max_attempts: 50, backoff: ["250ms", "1s"] },
  });
  const ordered = { key: "data.key", partitions: ORDERED_PARTITIONS };
  return {
    nats: { servers },
    store: { replicas: 3 },
    actors: [
      actor(Actors.Plain),
      { ...actor(Actors.Ordered), ordered },
      // a stateful actor needs ordered on its state key: one handling per key at a time across replicas
      { ...actor(Actors.Counter), module: counterModule, ordered },
    ],
    routes: { rules: [{ name: "chaos", match: { type: EVENT_TYPE }, to: [...ACTORS, Actors.Counter] }] },
    observability: { log_level: "warn" },
  };
}
