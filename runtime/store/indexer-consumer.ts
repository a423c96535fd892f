import { AckPolicy, DeliverPolicy, type ConsumerInfo, type JetStreamManager } from "@nats-io/jetstream";
import type { StoreSettings } from "../config/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { Consumers } from "../topology.ts";

/** The indexer's durable on the event stream: every event, explicit acks, position kept by the server. */
export async function ensureIndexerConsumer(jsm: JetStreamManager, store: StoreSettings, maxAckPending = 4096): Promise<ConsumerInfo> {
  const existing = await retryTransient(() => orMissing(() => jsm.consumers.info(store.stream, Consumers.indexer)));
  if (existing) return existing;
  return retryTransient(() =>
    jsm.consumers.add(store.stream, {
      durable_name: Consumers.indexer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // an event pulled by an indexer that then stopped comes back after this long
      ack_wait: 10_000_000_000,
      max_ack_pending: maxAckPending,
      max_deliver: -1,
    }),
  );
}
