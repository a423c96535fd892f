import type { JetStreamManager } from "@nats-io/jetstream";
import type { JetbusConfig } from "../config/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { ensureStore } from "../store/stream.ts";
import { ensureInbox } from "../actor/inbox.ts";
import { ensureRouterStreams } from "./inbox.ts";
import { ensureRouterConsumer } from "./lane-consumers.ts";

/** How long start-up keeps asking a busy or electing server to create the streams, durables and buckets. */
export const STARTUP_RETRY = { timeoutMs: 60_000 } as const;

/** Creates what a router replica needs before it routes: the store, the inboxes, the router's streams and its competing durable. */
export async function ensureRouterTopology(jsm: JetStreamManager, config: JetbusConfig, ackWaitMs: number | undefined): Promise<void> {
  // all idempotent: a request that times out while a busy server creates streams is asked again
  await retryTransient(async () => {
    // a router creates a missing store whole (events and their index): `get` and `trace` need both
    await ensureStore(jsm, config.store);
    await ensureInbox(jsm, config);
    await ensureRouterStreams(jsm, config);
    await ensureRouterConsumer(jsm, config.store.stream, ackWaitMs);
  }, STARTUP_RETRY);
}
