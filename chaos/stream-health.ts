// Whether the store's stream is whole: a leader and both followers current. Faults are injected
// on a healthy stream, and the store is read once it is whole again.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { sleep } from "./faults.ts";

/** Polls every 500 ms; false when `timeoutMs` passed without a healthy stream. */
export async function waitHealthy(nc: NatsConnection, stream: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const i = await (await jetstreamManager(nc, { timeout: 3000 })).streams.info(stream);
      const r = i.cluster?.replicas ?? [];
      if (i.cluster?.leader && r.length === 2 && r.every((x) => x.current && !x.offline)) return true;
    } catch {
      /* no leader yet */
    }
    await sleep(500);
  }
  return false;
}
