// When the counter actor is done: each partition durable of it has nothing pending and nothing
// unacked. Its handlings leave no effect file, so the drain of progress.ts cannot see them.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Consumers, Streams } from "../runtime/topology.ts";
import { sleep } from "./faults.ts";

export type CounterBacklog = { pending: number; unacked: number };

async function backlog(nc: NatsConnection, actor: string, partitions: number): Promise<CounterBacklog> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const out = { pending: 0, unacked: 0 };
  for (let p = 0; p < partitions; p++) {
    const c = await jsm.consumers.info(Streams.Inbox, Consumers.actorPartition(actor, p));
    out.pending += c.num_pending;
    out.unacked += c.num_ack_pending;
  }
  return out;
}

/** Polls every second until the backlog is empty (ok) or `timeoutMs` passes; `last` = the last backlog read. */
export async function counterSettled(
  nc: NatsConnection,
  actor: string,
  partitions: number,
  timeoutMs: number,
): Promise<{ ok: boolean; last?: CounterBacklog }> {
  const deadline = Date.now() + timeoutMs;
  let last: CounterBacklog | undefined;
  for (;;) {
    try {
      last = await backlog(nc, actor, partitions);
      if (last.pending === 0 && last.unacked === 0) return { ok: true, last };
    } catch {
      /* a request timed out on the loaded machine: read again */
    }
    if (Date.now() > deadline) return { ok: false, last };
    await sleep(1000);
  }
}
