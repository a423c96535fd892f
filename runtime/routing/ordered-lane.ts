import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { LeaseLostError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { BulkPublisher } from "../store/bulk.ts";
import { Consumers, LeaseKeys } from "../topology.ts";
import { ChainedPublisher } from "./chain.ts";
import type { StoredEventMsg } from "./copies.ts";
import { RoutingLane } from "./lane.ts";
import { DEFAULT_LEASE_TIMING, Lease, openLeaseBucket, type LeaseTiming } from "./lease.ts";

/** Routes one event's ordered copies through the given chains. */
export type RouteOrdered = (m: StoredEventMsg, chains: ChainedPublisher) => Promise<unknown>;

export type OrderedLaneDeps = Readonly<{ nc: NatsConnection; stream: string; replicas: number; logger: Logger; replicaId: string; publisher: BulkPublisher }>;

export type OrderedLaneOptions = Readonly<{ maxInFlight: number; timing?: LeaseTiming }>;

/**
 * Pull requests of the ordered lane live this long. A holder that loses its lease stops pulling
 * at once, but a pull it already sent could still be answered by the server; the next holder
 * waits until no pull is left on the durable (at most about this long) before it re-routes
 * what is unacked and starts consuming, so no event can reach a gone holder after the takeover.
 */
const PULL_EXPIRES_MS = 3_000;

/**
 * The ordered lane of one router replica: competes for lease `router-ordered` and, while it
 * holds it, consumes durable `jetbus-router-ordered` and publishes the copies for ordered
 * actors, chained per partition subject, strictly in stream order. One holder in the whole
 * deployment means one consumer of that durable, so the per-replica order is the global order.
 *
 * On takeover the new holder first waits out the old holder's pull requests, then re-routes
 * the durable's delivered-but-unacked events in stream order (RoutingLane's catch-up), then
 * consumes. On losing the lease the holder fences its chains first (nothing not yet sent goes
 * out), then stops consuming; events it had taken are nak'ed or left to ack_wait.
 */
export class OrderedLane {
  private lease?: Lease;
  private lane?: RoutingLane;
  /** Set when the lease is lost: the chains of that holding refuse to publish. */
  private fence = { lost: true };
  /** Lane starts and stops run one after another: a new holding starts after the last one ended. */
  private transitions: Promise<void> = Promise.resolve();

  constructor(private readonly deps: OrderedLaneDeps, private readonly route: RouteOrdered, private readonly opts: OrderedLaneOptions) {}

  /** True while this replica holds the lease (and so consumes the ordered lane). */
  get holding(): boolean {
    return this.lease?.held ?? false;
  }

  get inFlight(): number {
    return this.lane?.inFlight ?? 0;
  }

  async start(): Promise<void> {
    const timing = this.opts.timing ?? DEFAULT_LEASE_TIMING;
    const kv = await openLeaseBucket(this.deps.nc, this.deps.replicas, timing.ttlMs);
    this.lease = new Lease(this.deps.nc, kv, LeaseKeys.OrderedRouter, this.deps.replicaId, { onAcquired: () => this.acquired(), onLost: (reason) => this.lost(reason) }, this.deps.logger, timing);
    this.lease.start();
  }

  /** Drains the lane (copies in flight are acked), then releases the lease for a standby. */
  async stop(): Promise<void> {
    const lane = this.lane;
    this.lane = undefined;
    await lane?.stop();
    await this.lease?.stop();
    await this.transitions;
  }

  private acquired(): void {
    const fence = { lost: false };
    this.fence = fence;
    this.transitions = this.transitions.then(async () => {
      try {
        await this.waitForStalePulls();
        if (fence.lost) return;
        const chains = new ChainedPublisher(this.deps.publisher, () => {
          if (fence.lost) throw new LeaseLostError(LeaseKeys.OrderedRouter, "copy not published");
        });
        const lane = new RoutingLane(this.deps.nc, (m) => this.route(m, chains), this.deps.logger, {
          stream: this.deps.stream,
          durable: Consumers.routerOrdered,
          maxInFlight: this.opts.maxInFlight,
          pullExpiresMs: PULL_EXPIRES_MS,
        });
        this.lane = lane;
        await lane.start();
        if (!fence.lost) this.deps.logger.info({ replica: this.deps.replicaId }, "router consumes the ordered lane");
      } catch (err) {
        // holding the lease without consuming would stall every ordered actor: hand it on
        this.deps.logger.error({ err: (err as Error).message }, "ordered lane failed to start; releasing its lease");
        if (!fence.lost) await this.lease?.release(`start failed: ${(err as Error).message}`);
      }
    });
  }

  private lost(reason: string): void {
    this.fence.lost = true;
    const lane = this.lane;
    this.lane = undefined;
    if (lane) this.deps.logger.warn({ replica: this.deps.replicaId, reason }, "router stops consuming the ordered lane");
    const stopping = lane?.stop();
    this.transitions = this.transitions.then(() => stopping);
  }

  /**
   * Pulls the previous holder sent can still be answered until they expire; an event handed to
   * a gone holder would come back only after ack_wait, behind newer events. Bounded: a pull
   * outlives PULL_EXPIRES_MS only if the server never expires it, and then we go on anyway.
   */
  private async waitForStalePulls(): Promise<void> {
    const jsm = await jetstreamManager(this.deps.nc);
    const deadline = Date.now() + PULL_EXPIRES_MS + 2_000;
    for (;;) {
      const ci = await jsm.consumers.info(this.deps.stream, Consumers.routerOrdered);
      if (ci.num_waiting === 0 || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
