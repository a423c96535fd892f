import { jetstreamManager, type ConsumerInfo, type ConsumerNotification } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { PinLostError } from "../errors.ts";
import { headerOf } from "../events/headers.ts";
import type { Logger } from "../log.ts";
import type { BulkPublisher } from "../store/bulk.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import { Consumers, PriorityGroups } from "../topology.ts";
import { rerouteUnacked } from "./catch-up.ts";
import { ChainedPublisher } from "./chain.ts";
import type { StoredEventMsg } from "./copies.ts";
import type { Routed } from "./deliver.ts";
import { dupAgeLimitMs, RoutingLane } from "./lane.ts";
import { ORDERED_MAX_ACK_PENDING, ORDERED_PULL_EXPIRES_MS } from "./lane-consumers.ts";

/** Routes one event's ordered copies through the given chains; `possibleDup` as for RouteOne. */
export type RouteOrdered = (m: StoredEventMsg, chains: ChainedPublisher, possibleDup: boolean) => Promise<unknown>;

export type OrderedLaneDeps = Readonly<{
  nc: NatsConnection;
  stream: string;
  logger: Logger;
  replicaId: string;
  publisher: BulkPublisher;
  /** See LaneOptions.dupWindowMs. */
  dupWindowMs: number;
}>;

const PIN_HEADER = "Nats-Pin-Id";
/**
 * The pinned router stops publishing when its last pull carrying its pin is older than this: a
 * process paused (SIGSTOP, a VM freeze) or starved that long may have been replaced, and must not
 * send late copies or resends when it wakes. Not the pinned TTL (2 s): a replaced holder that
 * publishes for a while still publishes the same copies, each subject in stream order, and the
 * inbox drops each repeat by its Nats-Msg-Id within its 2-minute duplicate window, so an overlap
 * of seconds is harmless, while fencing at 2 s made busy holders (a loaded machine lags the
 * event loop by seconds) give the lane up again and again. 30 s plus the publisher's resend
 * horizon (about 50 s) stays well inside the 2 minutes.
 */
const FENCE_AFTER_MS = 30_000;
/** Connection events after which this process cannot know whether it is still pinned. */
const CONNECTION_LOST = new Set(["disconnect", "reconnecting", "staleConnection", "close"]);

/** What nats-server 2.11+ reports about a pinned durable's groups (the client's ConsumerInfo type lacks it). */
type PinnedInfo = ConsumerInfo & { priority_groups?: Array<{ group: string; pinned_client_id?: string }> };

/**
 * One stretch of being pinned: its pin id, a fence that, once lost, refuses every later copy,
 * and what its catch-up routed by store sequence (a delivery of such an event waits for that
 * instead of publishing its copies a second time).
 */
type Holding = {
  readonly pin: string;
  /**
   * Store sequence of the first delivery of this holding when that was a first delivery (not a
   * redelivery): every event from it on was delivered to this replica alone, so its catch-up
   * route says a duplicate is possible only for what lies before. Infinity otherwise.
   */
  readonly ownFrom: number;
  readonly fence: { lost: boolean };
  readonly chains: ChainedPublisher;
  readonly caughtUp: Map<number, Promise<unknown>>;
  ready: Promise<void>;
};

/**
 * The ordered lane of one router replica. Every replica pulls durable `jetbus-router-ordered`
 * in priority group `ordered` (`priority_policy: pinned_client`); the server delivers to one
 * pinned replica at a time, so the lane has one consumer in the whole deployment and its
 * per-subject chains give the global order.
 *
 * Becoming pinned (a delivery carrying a Nats-Pin-Id this replica does not hold yet) starts a
 * holding: it first re-routes every delivered-but-unacked event in stream order (what the
 * previous pinned replica may have left half done), then routes the deliveries. The holding
 * ends (its fence refuses every copy not yet sent, resends included) when the client reports
 * being unpinned, when the connection drops, and when this replica's last pull carrying its pin
 * is older than FENCE_AFTER_MS (a paused process that wakes up publishes nothing more). Copies already sent keep
 * their Nats-Msg-Id, so what two replicas both publish around a handover is stored once, and
 * each replica publishes a subject's copies in stream order, each after the previous one's ack:
 * the partition's order holds either way (see docs/concepts/routing.md).
 */
export class OrderedLane {
  private lane?: RoutingLane;
  private current?: Holding;
  /** performance.now() of the last pull sent with the current pin (or of becoming pinned). */
  private lastPinnedPullAt = 0;
  private statusIter?: AsyncIterable<{ type: string }> & { stop?: () => void };
  private stopped = false;

  constructor(
    private readonly deps: OrderedLaneDeps,
    private readonly route: RouteOrdered,
  ) {}

  /** True while this replica is pinned and may publish ordered copies. */
  get holding(): boolean {
    return this.current !== undefined && !this.current.fence.lost && this.pinFresh();
  }

  get inFlight(): number {
    return this.lane?.inFlight ?? 0;
  }

  async start(): Promise<void> {
    void this.watchConnection();
    const route = (m: StoredEventMsg, possibleDup: boolean, done: Routed) =>
      void this.routeDelivered(m, possibleDup).then(() => done(), done);
    this.lane = new RoutingLane(this.deps.nc, route, this.deps.logger, {
      stream: this.deps.stream,
      durable: Consumers.routerOrdered,
      // above the durable's max_ack_pending: the lane never stops taking messages, so pulls (which keep the pin) never stop
      maxInFlight: 2 * ORDERED_MAX_ACK_PENDING,
      pullExpiresMs: ORDERED_PULL_EXPIRES_MS,
      group: PriorityGroups.orderedRouter,
      catchUpOnStart: false,
      onStatus: (s) => this.onPullStatus(s),
      dupWindowMs: this.deps.dupWindowMs,
    });
    await this.lane.start();
  }

  /**
   * Stops pulling, lets copies in flight be acked, then unpins this replica so a standby takes over
   * at once. Not past `cutShort` (the connection is gone: the pin then expires on the server).
   * Resolves with how many events were left unsettled.
   */
  async stop(cutShort?: Promise<unknown>): Promise<number> {
    this.stopped = true;
    this.statusIter?.stop?.();
    const abandoned = (await this.lane?.stop(cutShort)) ?? 0;
    const held = this.current;
    if (!held || held.fence.lost) return abandoned;
    this.end("stopped");
    await unlessCutShort(this.unpin(held.pin), cutShort);
    return abandoned;
  }

  private async unpin(pin: string): Promise<void> {
    const jsm = await jetstreamManager(this.deps.nc);
    const ci = (await jsm.consumers.info(this.deps.stream, Consumers.routerOrdered).catch(() => null)) as PinnedInfo | null;
    // only our own pin: a standby pinned meanwhile keeps its own
    if (ci?.priority_groups?.[0]?.pinned_client_id === pin)
      await jsm.consumers.unpin(this.deps.stream, Consumers.routerOrdered, PriorityGroups.orderedRouter).catch(() => undefined);
  }

  private routeDelivered(m: StoredEventMsg, possibleDup: boolean): Promise<unknown> {
    const pin = headerOf(m, PIN_HEADER) ?? "";
    let h = this.current;
    if (!h || h.fence.lost || h.pin !== pin) h = this.takeOver(pin, possibleDup ? Number.POSITIVE_INFINITY : m.seq);
    const holding = h;
    const routed = holding.ready.then(() => {
      const caught = holding.caughtUp.get(m.seq);
      holding.caughtUp.delete(m.seq); // once: a redelivery (this one failed) is routed anew
      return caught ?? this.route(m, holding.chains, possibleDup);
    });
    // A failed event is given back (nak), and the events delivered after it would go out before its
    // redelivery: its chains fail what is queued behind it, but a chain that has drained starts again.
    // So a failure ends the holding: the next delivery starts a new one whose catch-up re-routes
    // every unacked event, the failed one first, in store order (chaos short, pause-node: an index
    // read timing out for one event let 357 later events of an ordered actor overtake it).
    routed.catch((err: unknown) => {
      if (holding.fence.lost || this.current !== holding) return;
      this.deps.logger.warn(
        { seq: m.seq, err: (err as Error)?.message },
        "an ordered copy failed: re-routing the unacked events in store order",
      );
      this.end("a copy failed");
    });
    return routed;
  }

  /** Pinned (again): the previous holding is fenced, the new one re-routes what is unacked before any delivery. */
  private takeOver(pin: string, ownFrom: number): Holding {
    if (this.current && !this.current.fence.lost) this.end("pinned again under a new id");
    const fence = { lost: false };
    const chains = new ChainedPublisher(this.deps.publisher, () => this.guard(fence));
    // the server (re)started its TTL when it pinned us, just before this delivery
    this.lastPinnedPullAt = performance.now();
    const h: Holding = { pin, ownFrom, fence, chains, caughtUp: new Map(), ready: Promise.resolve() };
    h.ready = this.catchUp(h);
    this.current = h;
    this.deps.logger.info({ replica: this.deps.replicaId, pin }, "router is pinned to the ordered lane");
    return h;
  }

  /** Everything delivered and unacked, this holding's first deliveries included, in stream order before anything else. */
  private async catchUp(h: Holding): Promise<void> {
    const { fence, chains, caughtUp, ownFrom } = h;
    const ageLimitMs = dupAgeLimitMs(this.deps.dupWindowMs);
    const route = (m: StoredEventMsg) => {
      // what the previous holder may have published says a duplicate is possible; what only this one took, as its delivery would
      const possibleDup = m.seq < ownFrom || Date.now() - m.timestamp.getTime() > ageLimitMs;
      const routed = this.route(m, chains, possibleDup);
      // only a delivery of this holding awaits it: when the holding is fenced first (unpinned,
      // pinned again), nothing does, and its PinLostError must not end the process as an
      // unhandled rejection (both routers of a chaos run crashed so; npm run chaos, seed 2026)
      routed.catch(() => undefined);
      caughtUp.set(m.seq, routed);
      return routed;
    };
    try {
      const jsm = await jetstreamManager(this.deps.nc);
      // deliveries go on once the catch-up is handed to the chains (they publish after it); its acks come in their time
      const { settled, ...result } = await rerouteUnacked(
        this.deps.nc,
        jsm,
        this.deps.stream,
        Consumers.routerOrdered,
        route,
        () => fence.lost,
      );
      if (result.rerouted > 0)
        void settled.then((failed) =>
          this.deps.logger.info({ durable: Consumers.routerOrdered, ...result, failed }, "ordered lane re-routed unacked events"),
        );
    } catch (err) {
      // deliveries of this holding fail (nak) and the next one starts a new holding with a new catch-up
      fence.lost = true;
      throw err;
    }
  }

  private guard(fence: { lost: boolean }): void {
    if (!fence.lost && !this.pinFresh()) this.end(`no pull with our pin for ${Math.round(performance.now() - this.lastPinnedPullAt)} ms`);
    if (fence.lost) throw new PinLostError(Consumers.routerOrdered, "copy not published");
  }

  private pinFresh(): boolean {
    return performance.now() - this.lastPinnedPullAt < FENCE_AFTER_MS;
  }

  private end(reason: string): void {
    const h = this.current;
    if (!h || h.fence.lost) return;
    h.fence.lost = true;
    this.deps.logger.warn({ replica: this.deps.replicaId, reason }, "router stops publishing the ordered lane");
  }

  private onPullStatus(s: ConsumerNotification): void {
    if (s.type === "next") {
      const id = (s.options as { id?: string }).id;
      if (id !== undefined && id === this.current?.pin) this.lastPinnedPullAt = performance.now();
    } else if (s.type === "consumer_unpinned") {
      this.end("unpinned by the server");
    }
  }

  private async watchConnection(): Promise<void> {
    const iter = this.deps.nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.statusIter = iter;
    for await (const s of iter) {
      if (this.stopped) break;
      if (CONNECTION_LOST.has(s.type)) this.end(`connection ${s.type}`);
    }
  }
}
