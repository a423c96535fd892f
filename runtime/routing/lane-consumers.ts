import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { orMissing } from "../nats/missing.ts";
import { Consumers, Subjects } from "../topology.ts";

const DEFAULT_ACK_WAIT_MS = 30_000;

function laneConfig(durable: string, ackWaitMs: number | undefined): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `${Subjects.events}.>`,
    ack_wait: (ackWaitMs ?? DEFAULT_ACK_WAIT_MS) * 1_000_000,
    max_ack_pending: 20_000,
  };
}

/** Only the server's "consumer not found" means absent: a timed-out lookup is thrown (and asked again by the caller). */
async function exists(jsm: JetStreamManager, stream: string, durable: string): Promise<boolean> {
  return (await orMissing(() => jsm.consumers.info(stream, durable))) !== null;
}

/** Adds a durable unless it exists; losing the race to a replica on another node is fine. */
async function addOnce(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  if (await exists(jsm, stream, config.durable_name)) return;
  try {
    await jsm.consumers.add(stream, config);
  } catch (err) {
    if (!(await exists(jsm, stream, config.durable_name))) throw err;
  }
}

/** The competing lane `jetbus-router`, from the start of the store. */
export function ensureRouterConsumer(jsm: JetStreamManager, stream: string, ackWaitMs?: number): Promise<void> {
  return addOnce(jsm, stream, laneConfig(Consumers.router, ackWaitMs));
}

export function orderedLaneExists(jsm: JetStreamManager, stream: string): Promise<boolean> {
  return exists(jsm, stream, Consumers.routerOrdered);
}

/**
 * The ordered lane `jetbus-router-ordered`, created the first time a config has an ordered actor.
 * It starts just after the competing lane's ack floor: every event at or below it is routed
 * already (its ordered copies, if any, published by the competing lane as before the ordered
 * lane existed), and every event above it is covered by the new lane, so no ordered copy is lost
 * and none of history is re-sent. Events both lanes publish keep one Nats-Msg-Id per copy, so
 * the inbox stores each once.
 */
export async function ensureOrderedLaneConsumer(jsm: JetStreamManager, stream: string, ackWaitMs?: number): Promise<void> {
  if (await orderedLaneExists(jsm, stream)) return;
  const router = await orMissing(() => jsm.consumers.info(stream, Consumers.router));
  const floor = router?.ack_floor.stream_seq ?? 0;
  const config = laneConfig(Consumers.routerOrdered, ackWaitMs);
  await addOnce(jsm, stream, floor === 0 ? config : { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 });
}
