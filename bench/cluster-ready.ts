import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { isNoPeers } from "../runtime/nats/errors.ts";

/**
 * Waits until a freshly started 3-node cluster places an R3 stream: on a loaded machine the meta
 * leader answers "no suitable peers" for a while after JetStream is up. Creates and deletes a probe.
 */
export async function waitForR3Placement(nc: NatsConnection, timeoutMs = 60_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await jsm.streams.add({ name: "BENCH_R3_PROBE", subjects: ["bench.r3probe"], num_replicas: 3 });
      await jsm.streams.delete("BENCH_R3_PROBE");
      return;
    } catch (err) {
      if (!isNoPeers(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
