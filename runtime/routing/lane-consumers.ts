import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { orMissing } from "../nats/missing.ts";
import { Consumers, PriorityGroups, Subjects } from "../topology.ts";

const DEFAULT_ACK_WAIT_MS = 30_000;

/**
 * Pinning of the ordered lane. Every router pulls `jetbus-router-ordered` in one priority group
 * and the server delivers to the pinned one only; it pins another router when the pinned one
 * sent no pull for ORDERED_PINNED_TTL_MS. A live pinned router pulls at least once per pull
 * expiry (ORDERED_PULL_EXPIRES_MS, 1 s: the client's minimum), so the TTL must exceed that with
 * room for a busy event loop: 2 s leaves 1 s. After a SIGKILL the standby is pinned 1-2 s later.
 */
export const ORDERED_PULL_EXPIRES_MS = 1_000;
export const ORDERED_PINNED_TTL_MS = 2_000;
/**
 * Unacked events of the ordered lane. The pinned router must keep pulling to stay pinned, and the
 * client only sends a pull when the lane takes the next message: the lane's in-flight bound is set
 * above this, so it never stops taking messages (its backlog is bounded here instead).
 */
export const ORDERED_MAX_ACK_PENDING = 2_048;

const PINNING = {
  priority_policy: "pinned_client",
  priority_groups: [PriorityGroups.orderedRouter],
  priority_timeout: ORDERED_PINNED_TTL_MS * 1_000_000,
  max_ack_pending: ORDERED_MAX_ACK_PENDING,
} as const satisfies Partial<ConsumerConfig>;

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
 * A durable made before the lane was pinned (a lease chose its one consumer then) gets the
 * pinning settings in place: the server allows changing them, and the delivery state is kept.
 */
async function ensurePinned(jsm: JetStreamManager, stream: string): Promise<void> {
  const ci = await jsm.consumers.info(stream, Consumers.routerOrdered);
  const c = ci.config;
  if (
    c.priority_policy === PINNING.priority_policy &&
    c.priority_timeout === PINNING.priority_timeout &&
    c.priority_groups?.[0] === PriorityGroups.orderedRouter &&
    c.max_ack_pending === PINNING.max_ack_pending
  )
    return;
  await jsm.consumers.update(stream, Consumers.routerOrdered, { ...PINNING, priority_groups: [...PINNING.priority_groups] });
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
  if (await orderedLaneExists(jsm, stream)) return ensurePinned(jsm, stream);
  const router = await orMissing(() => jsm.consumers.info(stream, Consumers.router));
  const floor = router?.ack_floor.stream_seq ?? 0;
  const config = { ...laneConfig(Consumers.routerOrdered, ackWaitMs), ...PINNING, priority_groups: [...PINNING.priority_groups] };
  await addOnce(jsm, stream, floor === 0 ? config : { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 });
}
