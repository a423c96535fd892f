import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { BulkPublisher } from "../store/bulk.ts";
import { IndexWriter, indexReads, type IndexReads } from "../store/index-entries.ts";
import { retireLegacyIndexer } from "../store/indexer.ts";
import { EventSchemas } from "../store/schemas.ts";
import { Consumers, indexStreamFor, Streams } from "../topology.ts";
import type { ChainedPublisher } from "./chain.ts";
import type { StoredConfig } from "./config-store.ts";
import type { StoredEventMsg } from "./copies.ts";
import { deliverEvent, Lane, type DeliveryDeps, type Routed } from "./deliver.ts";
import { ensureDirectDurables, followDirectDurables } from "./direct-durables.ts";
import { RoutingLane } from "./lane.ts";
import { LazyOrderedLane } from "./lazy-ordered-lane.ts";
import { LiveRules } from "./live-rules.ts";
import { RoutedCounts } from "./routed-counts.ts";
import { routerHeartbeat } from "./router-presence.ts";
import { SetAsideLog } from "./set-aside-log.ts";
import { ensureRouterTopology } from "./router-startup.ts";
import { newReplicaId, type Heartbeat } from "../presence/heartbeat.ts";
import { Tally } from "../presence/tally.ts";

export type RouterDeps = Readonly<{ nc: NatsConnection; config: JetbusConfig; logger: Logger; metrics: Metrics }>;

export type RouterOptions = Readonly<{
  replicaId?: string;
  /** Events routed at once per lane (decoded, copies published, original not yet acked). */
  maxInFlight?: number;
  /** ack_wait of the router durables when this router creates them. */
  ackWaitMs?: number;
  /** Presence heartbeat period. */
  heartbeatMs?: number;
  /**
   * Write the store's id and correlation indexes on the competing lane, with each event's routing
   * (default true). Off (`--no-indexer`), no index is kept and every inbox copy says a duplicate
   * is possible: nothing tells a repeated id.
   */
  index?: boolean;
}>;

/** A server's duplicate window when a stream does not say (nats-server's default): 2 minutes. */
const SERVER_DUPLICATE_WINDOW_MS = 120_000;

export type RouterHandle = Readonly<{
  replicaId: string;
  /** The config revision this replica routes with right now. */
  readonly revision: number;
  /** True while this replica is pinned to the ordered lane (publishes the ordered copies). */
  readonly ordered: boolean;
  /** See Router.stop. */
  stop(cutShort?: Promise<unknown>): Promise<void>;
}>;

/**
 * One router replica, routing through two lanes on the event stream.
 *
 * Why two lanes: competing replicas on one durable scale out, but two events of one key taken
 * by two replicas can be published in either order, and ordered actors need their inbox
 * partition in stream order. A single active router would keep order but give up scaling. So
 * the work is split by what needs order:
 * - the competing lane (durable `jetbus-router`, every replica) publishes the copies for
 *   unordered actors, unrouted and quarantined events; any replica may take any event;
 * - the ordered lane (durable `jetbus-router-ordered`, a pinned priority group) publishes only
 *   the copies for ordered actors; the server delivers it to one pinned replica at a time, so it
 *   has one consumer in the whole deployment and its per-subject chains give the global order.
 * Each copy keeps its Nats-Msg-Id `<event id>:<actor>`, so whatever two lanes or two holders of
 * the ordered lane both publish is stored once.
 *
 * The ordered lane exists once some config has an ordered actor: created at start-up, before
 * this replica consumes anything, or when a live config first adds one. In that second case
 * the competing lane may take an event with an ordered copy before this replica has the lane:
 * it gives the event back (nak) instead of publishing that copy, so ordered copies only ever
 * come from the ordered lane. The ordered durable starts just after the competing lane's ack
 * floor, so every event given back is on it, and nothing acked before was routed to an ordered
 * actor: none is lost, none re-sent from history.
 *
 * Every event is routed with the rule set current when its lane takes it (never two revisions
 * within one lane). The lanes switch revisions independently: around a live config change the
 * ordered and unordered copies of one event can come from adjacent revisions.
 */
export class Router {
  readonly replicaId: string;
  private live!: LiveRules;
  private publisher!: BulkPublisher;
  private competing?: RoutingLane;
  private ordered?: LazyOrderedLane;
  private presence?: Heartbeat;
  /** Copies per rule and actor, reported in the heartbeat for the console's flow rates. */
  private readonly tally = new Tally();
  private readonly routed: RoutedCounts;
  private readonly maxInFlight: number;
  /** Data schemas of event types, compiled once per type and shared by both lanes. */
  private readonly schemas = new EventSchemas();
  /** Log lines for quarantined and unrouted events, rate-limited. */
  private readonly setAside: SetAsideLog;
  private stopping = false;
  private stopLag?: () => void;
  private delivery?: DeliveryDeps;
  private indexReads?: IndexReads;
  private index?: IndexWriter;

  constructor(
    private readonly deps: RouterDeps,
    private readonly opts: RouterOptions = {},
  ) {
    this.replicaId = opts.replicaId ?? newReplicaId();
    this.routed = new RoutedCounts(deps.metrics, () => this.tally);
    this.maxInFlight = opts.maxInFlight ?? 512;
    this.setAside = new SetAsideLog(deps.logger);
  }

  get revision(): number {
    return this.live?.current.revision ?? 0;
  }

  get holdsOrderedLane(): boolean {
    return this.ordered?.holding ?? false;
  }

  private get inFlight(): number {
    return (this.competing?.inFlight ?? 0) + (this.ordered?.inFlight ?? 0);
  }

  async start(): Promise<void> {
    const { nc, config, logger } = this.deps;
    const stream = config.store.stream;
    const jsm = await jetstreamManager(nc);
    await ensureRouterTopology(jsm, config, this.opts.ackWaitMs);
    // how long the inbox drops a repeated copy: beyond it, a copy of an event routed before may be stored again
    const inbox = await jsm.streams.info(Streams.Inbox);
    const dupWindowMs = inbox.config.duplicate_window ? inbox.config.duplicate_window / 1_000_000 : SERVER_DUPLICATE_WINDOW_MS;

    this.live = await LiveRules.load(nc, config, logger);
    const initial = this.live.initial.config;
    this.publisher = new BulkPublisher(nc, { window: 4096, ackTimeoutMs: 5000 });
    if (this.opts.index !== false) {
      this.indexReads = await indexReads(nc, indexStreamFor(stream));
      this.index = new IndexWriter(this.publisher, this.indexReads, stream);
      // a deployment from before 0.3 has an indexer durable of its own: index its gap, then drop it
      void retireLegacyIndexer(nc, config.store, logger).catch((err: unknown) =>
        logger.warn(
          { err: (err as Error).message },
          "could not retire the indexer durable of jetbus before 0.3; retried at the next start",
        ),
      );
    }
    this.ordered = new LazyOrderedLane(
      {
        nc,
        stream,
        logger,
        replicaId: this.replicaId,
        publisher: this.publisher,
        ackWaitMs: this.opts.ackWaitMs,
        stopping: () => this.stopping,
        dupWindowMs,
      },
      (m, chains, possibleDup) =>
        new Promise<void>((resolve, reject) =>
          this.deliver(m, Lane.Ordered, possibleDup, (err) => (err ? reject(err) : resolve()), chains),
        ),
    );
    await ensureDirectDurables(jsm, stream, initial);
    await this.ordered.startIfNeeded(jsm, initial);
    await this.live.follow((stored, from) => this.switched(stored, from));

    const presence = { nc, replicas: config.store.replicas, replicaId: this.replicaId, logger, everyMs: this.opts.heartbeatMs };
    this.presence = routerHeartbeat(presence, () => ({
      inFlight: this.inFlight,
      configRevision: this.revision,
      orderedLane: this.holdsOrderedLane,
      counts: this.tally.snapshot(),
    }));
    await this.presence.start();

    this.competing = new RoutingLane(nc, (m, possibleDup, done) => this.deliver(m, Lane.Competing, possibleDup, done), logger, {
      stream,
      durable: Consumers.router,
      maxInFlight: this.maxInFlight,
      dupWindowMs,
    });
    await this.competing.start();
    this.stopLag = this.deps.metrics.addLagSampler(async () => {
      const ci = await jsm.consumers.info(stream, Consumers.router);
      this.deps.metrics.consumerPending.set({ consumer: Consumers.router }, ci.num_pending + ci.num_ack_pending);
    });
    logger.info(
      {
        replica: this.replicaId,
        revision: this.revision,
        rules: this.live.current.rules.length,
        mode: this.live.current.mode,
        orderedLane: this.ordered.ready,
        index: this.index !== undefined,
      },
      "router started",
    );
  }

  /**
   * Stops taking events, waits for those in flight to be acked (drain), hands the ordered lane on,
   * then leaves. `cutShort` (the connection is gone) ends every wait: events in flight are left
   * unacked (the server redelivers them after ack_wait) and their copies' publishes rejected.
   */
  async stop(cutShort?: Promise<unknown>): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopLag?.();
    this.live?.stop();
    await this.ordered?.started(cutShort);
    const left = await Promise.all([this.competing?.stop(cutShort), this.ordered?.stop(cutShort)]);
    await this.publisher?.close(cutShort);
    this.indexReads?.close();
    this.routed.flush();
    await this.presence?.stop(cutShort);
    this.setAside.flush();
    const unacked = left.reduce<number>((a, n) => a + (n ?? 0), 0);
    this.deps.logger.info({ replica: this.replicaId, ...(unacked > 0 ? { unacked } : {}) }, "router stopped");
  }

  /** A live revision is routed with from now on: direct actors' durables follow it, the first ordered actor gets its lane. */
  private switched(stored: StoredConfig, from: number): void {
    const { nc, config, logger } = this.deps;
    logger.info({ replica: this.replicaId, from, to: stored.revision }, "router switched config revision");
    followDirectDurables(nc, config.store.stream, logger, stored);
    this.ordered?.follow(stored.config);
    void this.presence?.beat();
  }

  /**
   * Starts every publish of one event for one lane synchronously (order matters for chains), resolves when all are acked.
   * The event is routed with the rule set current when its lane takes it.
   */
  private deliver(m: StoredEventMsg, lane: Lane, possibleDup: boolean, done: Routed, chains?: ChainedPublisher): void {
    this.delivery ??= {
      publisher: () => this.publisher,
      index: () => this.index,
      schemas: () => this.schemas,
      metrics: this.deps.metrics,
      routed: this.routed,
      orderedLaneReady: () => this.ordered?.ready ?? false,
      orderedLaneNeeded: () => this.ordered?.startInBackground(),
      setAside: this.setAside,
    };
    deliverEvent(this.delivery, m, this.live.current, lane, chains, possibleDup, done);
  }
}

/** Starts one router replica (used by `jetbus router` and `jetbus up`). */
export async function startRouter(deps: RouterDeps, opts: RouterOptions = {}): Promise<RouterHandle> {
  const router = new Router(deps, opts);
  try {
    await router.start();
  } catch (err) {
    // a half-started replica may already be pinned to the ordered lane: hand it on before failing
    await router.stop().catch(() => undefined);
    throw err;
  }
  return {
    replicaId: router.replicaId,
    get revision() {
      return router.revision;
    },
    get ordered() {
      return router.holdsOrderedLane;
    },
    stop: (cutShort) => router.stop(cutShort),
  };
}
