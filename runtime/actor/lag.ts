import type { JetStreamManager } from "@nats-io/jetstream";
import type { ActorSettings } from "../config/types.ts";
import type { LagSampler, Metrics } from "../observability/metrics.ts";
import { Streams } from "../topology.ts";
import { consumersOf } from "./ordering.ts";

/**
 * The lag of the given actors' inbox durables (one, or one per partition of an ordered actor),
 * labelled with the durable and the actor so dashboards can sum partitions per actor. Lag is
 * what the durable has not finished: not yet delivered plus delivered and unacked.
 */
export function actorLagSampler(jsm: JetStreamManager, actors: readonly ActorSettings[], metrics: Metrics): LagSampler {
  return async () => {
    await Promise.all(
      actors.flatMap((a) =>
        consumersOf(a).map(async (c) => {
          const ci = await jsm.consumers.info(Streams.Inbox, c.durable);
          metrics.consumerPending.set({ consumer: c.durable, actor: a.name }, ci.num_pending + ci.num_ack_pending);
        }),
      ),
    );
  };
}
