import { RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { JetbusConfig } from "../config/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { isAlreadyExists, isNotFound } from "../nats/errors.ts";
import { Streams } from "../topology.ts";

// The inbox itself (JETBUS_INBOX, subjects, partitions) belongs to the actor area, one layer down
// (runtime/actor/inbox.ts, ordering.ts); this file holds the router's own streams.

/** Creates a stream when it is missing; an existing one is left exactly as it is (its owner configures it). */
export async function ensureStreamExists(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await retryTransient(() => jsm.streams.info(cfg.name));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await retryTransient(() => jsm.streams.add(cfg));
  } catch (err) {
    // another process created it between our info and add
    if (!isAlreadyExists(err)) throw err;
  }
}

function replicasOf(config: Pick<JetbusConfig, "store">): number {
  return config.store.replicas;
}

/** JETBUS_UNROUTED over `unrouted.>` and JETBUS_QUARANTINE over `quarantine.>`: kept, never dropped by jetbus. */
export function routerStreamConfigs(config: Pick<JetbusConfig, "store">): Array<Partial<StreamConfig> & { name: string }> {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicasOf(config),
    duplicate_window: 120_000_000_000,
  };
  return [
    { ...common, name: Streams.Unrouted, subjects: ["unrouted.>"] },
    { ...common, name: Streams.Quarantine, subjects: ["quarantine.>"] },
  ];
}

export async function ensureRouterStreams(jsm: JetStreamManager, config: Pick<JetbusConfig, "store">): Promise<void> {
  for (const cfg of routerStreamConfigs(config)) await ensureStreamExists(jsm, cfg);
}
