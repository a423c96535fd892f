import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import type { Event } from "../events/types.ts";
import { markerKeyOf } from "../actor/idempotency.ts";
import type { ProcessedMarker } from "../actor/types.ts";
import { Buckets } from "../topology.ts";
import { TimeoutError } from "../errors.ts";

/** One delivery the routing rules promise: this actor must handle this event. */
export type Expected = Readonly<{ event: Event; actor: string }>;
export type Handled = Expected & Readonly<{ marker: ProcessedMarker }>;

/**
 * Waits until every expected (event, actor) pair has its processed marker, the record an actor
 * writes after its handler succeeded and before it acks. Watching markers, not sleeping, is what
 * makes "the actors handled it" a fact read from the store.
 */
export async function waitHandled(nc: NatsConnection, expected: readonly Expected[], timeoutMs: number): Promise<Handled[]> {
  const kvm = new Kvm(nc);
  const buckets = new Map<string, Promise<KV>>();
  const bucketOf = (actor: string) => {
    if (!buckets.has(actor)) buckets.set(actor, kvm.open(Buckets.processed(actor)));
    return buckets.get(actor)!;
  };
  const found = new Map<Expected, ProcessedMarker>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const e of expected) {
      if (found.has(e)) continue;
      const entry = await bucketOf(e.actor)
        .then((kv) => kv.get(markerKeyOf(e.event)))
        .catch(() => null);
      if (entry && entry.operation === "PUT") found.set(e, entry.json<ProcessedMarker>());
    }
    if (found.size === expected.length) return expected.map((e) => ({ ...e, marker: found.get(e)! }));
    if (Date.now() > deadline) {
      const missing = expected.filter((e) => !found.has(e)).map((e) => `${e.actor} ← ${e.event.type}`);
      throw new TimeoutError(`actors did not handle every routed event within ${timeoutMs} ms; missing: ${missing.join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
