import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { ensureInbox } from "../actor/inbox.ts";
import { ensureRouterStreams } from "../routing/inbox.ts";
import { ensureStore } from "../store/stream.ts";

/**
 * Creates every shared stream and every actor's durables as the admin, once, before role users start: with least-privilege
 * permissions the router and actors may bind to streams but not create the shared ones (EVENTS,
 * its index, JETBUS_INBOX with each actor's durables, JETBUS_DLQ, JETBUS_UNROUTED, JETBUS_QUARANTINE). Idempotent: each
 * ensure leaves an existing stream as its owner configured it (or updates it in place).
 */
export async function provisionStreams(nc: NatsConnection, config: JetbusConfig): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureStore(jsm, config.store);
  await ensureInbox(jsm, config);
  await ensureRouterStreams(jsm, config);
}
