import { createInbox, type NatsConnection } from "@nats-io/transport-node";

/**
 * A fresh reply subject under the connection's own inbox prefix. Users in the deploy/ accounts
 * may subscribe only below `_INBOX.<user>`, so an inbox made with the default `_INBOX` prefix is
 * refused by the server and every reply to it is lost. The prefix lives on the connection's
 * options (not on the NatsConnection interface); the JetStream client reads it the same way.
 */
export function connectionInbox(nc: NatsConnection): string {
  const prefix = (nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
  return createInbox(prefix || undefined);
}
