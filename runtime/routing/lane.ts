import { jetstreamManager, type ConsumerNotification, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { ConsumerRunner } from "../consumer/runner.ts";
import type { StoredEventMsg } from "./copies.ts";
import { Delivery } from "../nats/delivered.ts";
import { rerouteUnacked } from "./catch-up.ts";
import type { Routed } from "./deliver.ts";

/** A failed event is offered again after this delay (a nak, not a wait for ack_wait). */
const RETRY_DELAY_MS = 1000;

/**
 * Routes one stored event: starts its publishes synchronously (chains rely on the call order),
 * calls `done` once when all are acked (or with the first error). `possibleDup`: this event may
 * have been routed before (see dupPossible).
 */
export type RouteOne = (m: StoredEventMsg, possibleDup: boolean, done: Routed) => void;

/** RouteOne as a promise (re-routes after a crash collect them). */
export function routed(route: RouteOne, m: StoredEventMsg, possibleDup: boolean): Promise<void> {
  return new Promise((resolve, reject) => route(m, possibleDup, (err) => (err ? reject(err) : resolve())));
}

export type LaneOptions = Readonly<{
  stream: string;
  durable: string;
  /** Events routed at once (decoded, copies published, original not yet acked). */
  maxInFlight: number;
  /** Lifetime of each pull request (default 5s); the ordered lane's pulls also keep its pin (see lane-consumers.ts). */
  pullExpiresMs?: number;
  /** Pull in this priority group (a pinned durable: the server delivers to one client of the group at a time). */
  group?: string;
  /** Re-route what a previous consumer left unacked before consuming (default true); the ordered lane does it per pinning instead. */
  catchUpOnStart?: boolean;
  /** The client's notifications about the pulls (pull sent, pinned, unpinned, heartbeats). */
  onStatus?: (s: ConsumerNotification) => void;
  /** The inbox's duplicate window: events stored about this long ago may have copies it no longer remembers (see dupPossible). */
  dupWindowMs: number;
}>;

/**
 * Clocks of the router's host and the server's may differ by this much: an event is taken as old
 * (beyond the inbox's duplicate window) this much early; a quarter of a short window.
 */
const CLOCK_SKEW_MS = 30_000;

/** Events stored longer ago than this (by the router's clock) may repeat a copy the inbox has forgotten. */
export function dupAgeLimitMs(inboxWindowMs: number): number {
  return inboxWindowMs - Math.min(CLOCK_SKEW_MS, inboxWindowMs / 4);
}

/**
 * One router lane: a ConsumerRunner on one durable of the event stream, routing each event with
 * `route` and acking it only when every copy has its JetStream ack. The events taken in one turn
 * are routed together in the next macrotask (deferDispatch), so one socket write carries the
 * copies of many events; acks are batched the same way.
 */
export class RoutingLane {
  private runner?: ConsumerRunner;
  private stopping = false;
  private readonly ageLimitMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly route: RouteOne,
    private readonly logger: Logger,
    private readonly opts: LaneOptions,
  ) {
    this.ageLimitMs = dupAgeLimitMs(opts.dupWindowMs);
  }

  get inFlight(): number {
    return this.runner?.inFlight ?? 0;
  }

  /** Re-routes what a previous consumer left unacked, then consumes. */
  async start(): Promise<void> {
    if (this.opts.catchUpOnStart !== false) await this.catchUp();
    if (this.stopping) return;
    const o = this.opts;
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: this.nc,
      stream: o.stream,
      durables: [o.durable],
      concurrency: o.maxInFlight,
      pullBatch: Math.max(256, o.maxInFlight),
      expiresMs: o.pullExpiresMs,
      group: o.group,
      onStatus: o.onStatus,
      deferDispatch: true,
      logger: this.logger.child({ durable: o.durable }),
      handle: (m): Promise<void> => this.routeOne(runner, m),
    });
    this.runner = runner;
    await runner.start();
  }

  /**
   * Stops taking events (those already taken are given back), then waits for the ones in flight to
   * settle; not past `cutShort` (the connection is gone): those come back after ack_wait. Resolves
   * with how many were left unsettled.
   */
  async stop(cutShort?: Promise<unknown>): Promise<number> {
    this.stopping = true;
    return (await this.runner?.stop(Number.POSITIVE_INFINITY, undefined, cutShort))?.abandoned ?? 0;
  }

  /** See rerouteUnacked: a starting lane first re-routes what a crashed consumer left unacked. */
  private async catchUp(): Promise<void> {
    const { stream, durable } = this.opts;
    // what a crashed consumer left may have been routed already: every copy says so
    const route = (m: StoredEventMsg) => routed(this.route, m, true);
    const { settled, ...result } = await rerouteUnacked(
      this.nc,
      await jetstreamManager(this.nc),
      stream,
      durable,
      route,
      () => this.stopping,
    );
    const failed = await settled;
    if (result.rerouted > 0) this.logger.info({ durable, ...result, failed }, "router lane re-routed unacked events before consuming");
  }

  /**
   * Whether this delivery's event may have been routed before, so a copy the inbox stores now may
   * repeat one it has forgotten: the lane's own redelivery, or an event stored longer ago than the
   * inbox's duplicate window (a durable re-created, a router down for longer). A first delivery of
   * a recent event has no earlier copy, or one the inbox still drops by its Nats-Msg-Id.
   */
  private dupPossible(m: JsMsg): boolean {
    const info = m.info;
    return info.redelivered || Date.now() - info.timestampNanos / 1_000_000 > this.ageLimitMs;
  }

  /** The runner's one promise per delivery; the routing under it runs on callbacks. */
  private routeOne(runner: ConsumerRunner, m: JsMsg): Promise<void> {
    return new Promise((resolve) =>
      this.route(new Delivery(m), this.dupPossible(m), (err) => {
        if (!err) runner.ack(m);
        // cut short by a lost connection: the router logs how many it left, not one line each
        else {
          if (!this.stopping)
            this.logger.warn({ durable: this.opts.durable, seq: m.seq, err: err.message }, "routing failed; event offered again");
          runner.nak(m, RETRY_DELAY_MS);
        }
        resolve();
      }),
    );
  }
}
