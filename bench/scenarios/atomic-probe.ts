import type { JetStreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { publishAtomicPair } from "../../runtime/actor/state/atomic-pair.ts";

const PARALLEL = 8;

/**
 * Commits/s of the two ways a stateful handling can be written, 8 writers at once (a worker's
 * partitions) on one file-storage stream: a one-write state message guarded by its subject's last
 * sequence (what the state store does), and a two-message atomic batch (what it did before).
 */
export async function commitProbe(
  nc: NatsConnection,
  jsm: JetStreamManager,
  perWriter: number,
): Promise<{ single: number; atomic: number }> {
  const stream = "BENCH_COMMIT_PROBE";
  await jsm.streams.add({ name: stream, subjects: ["probe.>"], storage: "file", allow_atomic: true } as never);
  try {
    const timed = async (write: (w: number, i: number, last: number) => Promise<number>): Promise<number> => {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: PARALLEL }, async (_, w) => {
          let last = 0;
          for (let i = 0; i < perWriter; i++) last = await write(w, i, last);
        }),
      );
      return (PARALLEL * perWriter) / ((performance.now() - t0) / 1000);
    };
    const enc = new TextEncoder();
    const single = await timed(async (w, _i, last) => {
      const h = headers();
      h.set("Nats-Expected-Last-Subject-Sequence", String(last));
      const reply = await nc.request(`probe.single.${w}`, enc.encode("{}"), { headers: h, timeout: 5000 });
      return (JSON.parse(new TextDecoder().decode(reply.data)) as { seq: number }).seq;
    });
    const atomic = await timed(async (w, i) => {
      await publishAtomicPair(
        nc,
        { subject: `probe.marker.${w}.${i}`, data: enc.encode("{}") },
        { subject: `probe.atomic.${w}`, data: enc.encode("{}") },
      );
      return 0;
    });
    return { single, atomic };
  } finally {
    await jsm.streams.delete(stream);
  }
}
