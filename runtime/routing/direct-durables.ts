import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { isDirect } from "../config/direct.ts";
import { ensureDirectConsumers } from "../actor/direct.ts";
import type { JetbusConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { retryTransient } from "../nats/connect.ts";
import type { StoredConfig } from "./config-store.ts";
import { STARTUP_RETRY } from "./router-startup.ts";

/** At start-up: every direct actor's store durable, its filter_subjects set from the config the router routes with. */
export async function ensureDirectDurables(jsm: JetStreamManager, stream: string, config: JetbusConfig): Promise<void> {
  if (config.actors.some(isDirect)) await retryTransient(() => ensureDirectConsumers(jsm, stream, config, { update: true }), STARTUP_RETRY);
}

/**
 * A live revision changes the types a direct actor's rules name: its store durable's filter_subjects follow.
 * In the background (the revision is routed with at once); a failure is logged.
 */
export function followDirectDurables(nc: NatsConnection, stream: string, logger: Logger, stored: StoredConfig): void {
  if (!stored.config.actors.some(isDirect)) return;
  void (async () => {
    const jsm = await jetstreamManager(nc);
    await retryTransient(() => ensureDirectConsumers(jsm, stream, stored.config, { update: true }), STARTUP_RETRY);
    logger.info({ revision: stored.revision }, "direct actors' store durables follow the config revision");
  })().catch((err) =>
    logger.error({ revision: stored.revision, err: (err as Error).message }, "direct actors' store durables could not be updated"),
  );
}
