import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { retryTransient } from "../nats/connect.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import { isTransient } from "../nats/errors.ts";
import { BulkPublisher } from "../store/bulk.ts";
import { EventSchemas } from "../store/schemas.ts";
import { ensureStore } from "../store/stream.ts";
import { Consumers } from "../topology.ts";
import type { ChainedPublisher } from "./chain.ts";
import { ConfigStore, type StoredConfig } from "./config-store.ts";
import type { StoredEventMsg } from "./copies.ts";
import { deliverEvent, Lane, type DeliveryDeps } from "./deliver.ts";
import { ensureDirectConsumers, isDirect } from "../actor/direct.ts";
import { ensureInbox, ensureRouterStreams } from "./inbox.ts";
import { RoutingLane } from "./lane.ts";
import { ensureOrderedLaneConsumer, ensureRouterConsumer, orderedLaneExists } from "./lane-consumers.ts";
import { OrderedLane } from "./ordered-lane.ts";
import { compileRuleSet } from "./plan.ts";
import { Heartbeat, newReplicaId, openPresenceBucket, presenceKey, Tally } from "../presence/mod.ts";
import type { RuleSet } from "./types.ts";

export type RouterDeps = Readonly<{ nc: NatsConnection; config: JetbusConfig; logger: Logger; metrics: Metrics }>;

export type RouterOptions = Readonly<{
  replicaId?: string;
  /** Events routed at once per lane (decoded, copies published, original not yet acked). */
  maxInFlight?: number;
  /** ack_wait of the router durables when this router creates them. */
  ackWaitMs?: number;
  /** Presence heartbeat period. */
  heartbeatMs?: number;
}>;

export type RouterHandle = Readonly<{
  replicaId: string;
  /** The config revision this replica routes with right now. */
  readonly revision: number;
  /** True while this replica is pinned to the ordered lane (publishes the ordered copies). */
  readonly ordered: boolean;
  /** See Router.stop. */
  stop(cutShort?: Promise<unknown>): Promise<void>;
}>;

const ROUTER_NAME = "jetbus-router";
/** How long start-up keeps asking a busy or electing server to create the streams, durables and buckets. */
const STARTUP_RETRY = { timeoutMs: 60_000 } as const;

function hasOrderedActor(config: Pick<JetbusConfig, "actors">): boolean {
  return config.actors.some((a) => a.ordered !== undefined);
}

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
  private rules!: RuleSet;
  private publisher!: BulkPublisher;
  private competing?: RoutingLane;
  private orderedLane?: OrderedLane;
  /** Set once this replica knows the ordered durable exists; from then on the competing lane leaves ordered copies to it. */
  private orderedLaneReady = false;
  private orderedLaneStarting?: Promise<void>;
  private watcher?: { stop(): void };
  private presence?: Heartbeat;
  /** Copies per rule and actor, reported in the heartbeat for the console's flow rates. */
  private readonly tally = new Tally();
  private readonly maxInFlight: number;
  /** Data schemas of event types, compiled once per type and shared by both lanes. */
  private readonly schemas = new EventSchemas();
  private stopping = false;
  private stopLag?: () => void;

  constructor(
    private readonly deps: RouterDeps,
    private readonly opts: RouterOptions = {},
  ) {
    this.replicaId = opts.replicaId ?? newReplicaId();
    this.maxInFlight = opts.maxInFlight ?? 512;
  }

  get revision(): number {
    return this.rules?.revision ?? 0;
  }

  get holdsOrderedLane(): boolean {
    return this.orderedLane?.holding ?? false;
  }

  private get inFlight(): number {
    return (this.competing?.inFlight ?? 0) + (this.orderedLane?.inFlight ?? 0);
  }

  async start(): Promise<void> {
    const { nc, config, logger } = this.deps;
    const stream = config.store.stream;
    const jsm = await jetstreamManager(nc);
    // all idempotent: a request that times out while a busy server creates streams is asked again
    await retryTransient(async () => {
      // a router creates a missing store whole (events and their index): `get` and `trace` need both
      await ensureStore(jsm, config.store);
      await ensureInbox(jsm, config);
      await ensureRouterStreams(jsm, config);
      await ensureRouterConsumer(jsm, stream, this.opts.ackWaitMs);
    }, STARTUP_RETRY);

    const store = await ConfigStore.open(nc, { replicas: config.store.replicas });
    const initial = await this.initialConfig(store);
    this.publisher = new BulkPublisher(nc, { window: 4096, ackTimeoutMs: 5000 });
    this.use(initial);
    if (initial.config.actors.some(isDirect))
      await retryTransient(() => ensureDirectConsumers(jsm, stream, initial.config, { update: true }), STARTUP_RETRY);
    if (hasOrderedActor(initial.config) || (await retryTransient(() => orderedLaneExists(jsm, stream), STARTUP_RETRY)))
      await this.startOrderedLane();
    this.watcher = await retryTransient(
      () =>
        store.watch(
          (c) => {
            if (c.revision > this.rules.revision) this.use(c);
          },
          (revision, err) =>
            logger.error({ revision, err: (err as Error).message }, "stored config revision is invalid; keeping the current rules"),
        ),
      STARTUP_RETRY,
    );

    this.presence = new Heartbeat(
      () => openPresenceBucket(nc, config.store.replicas),
      presenceKey("router", ROUTER_NAME, this.replicaId),
      () => ({
        role: "router",
        name: ROUTER_NAME,
        replica: this.replicaId,
        inFlight: this.inFlight,
        configRevision: this.revision,
        orderedLane: this.holdsOrderedLane,
        counts: this.tally.snapshot(),
      }),
      logger,
      this.opts.heartbeatMs,
    );
    await this.presence.start();

    this.competing = new RoutingLane(nc, (m) => this.deliver(m, this.rules, Lane.Competing), logger, {
      stream,
      durable: Consumers.router,
      maxInFlight: this.maxInFlight,
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
        rules: this.rules.rules.length,
        mode: this.rules.mode,
        orderedLane: this.orderedLaneReady,
      },
      "router started",
    );
  }

  /** The stored config, seeded from the file on first start; the file's own if what is stored does not validate. */
  private async initialConfig(store: ConfigStore): Promise<StoredConfig> {
    const { config, logger } = this.deps;
    try {
      return await retryTransient(async () => (await store.current()) ?? (await store.seed(config)), STARTUP_RETRY);
    } catch (err) {
      if (isTransient(err)) throw err;
      // a stored revision that does not validate (written by hand or an older jetbus): run the file's rules
      logger.error(
        { err: (err as Error).message },
        "stored config is invalid; routing with the file config (revision 0) until a valid revision is applied",
      );
      return { revision: 0, at: new Date(), config };
    }
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
    this.watcher?.stop();
    await unlessCutShort(this.orderedLaneStarting?.catch(() => undefined) ?? Promise.resolve(), cutShort);
    const left = await Promise.all([this.competing?.stop(cutShort), this.orderedLane?.stop(cutShort)]);
    await this.publisher?.close(cutShort);
    await this.presence?.stop(cutShort);
    const unacked = left.reduce<number>((a, n) => a + (n ?? 0), 0);
    this.deps.logger.info({ replica: this.replicaId, ...(unacked > 0 ? { unacked } : {}) }, "router stopped");
  }

  /** Swaps the whole compiled rule set: the next event taken uses it, events in flight keep theirs. */
  private use(stored: StoredConfig): void {
    const next = compileRuleSet(stored.config, stored.revision);
    const from = this.rules?.revision;
    this.rules = next;
    if (from !== undefined) {
      this.deps.logger.info({ replica: this.replicaId, from, to: next.revision }, "router switched config revision");
      this.updateDirectConsumers(stored);
    }
    if (from !== undefined && !this.orderedLaneReady && hasOrderedActor(stored.config)) {
      // the first ordered actor, added live: until the lane is there, events with ordered copies are given back
      this.startOrderedLaneInBackground();
    }
    void this.presence?.beat();
  }

  /** A live revision changes the types a direct actor's rules name: its store durable's filter_subjects follow. */
  private updateDirectConsumers(stored: StoredConfig): void {
    if (!stored.config.actors.some(isDirect)) return;
    const { nc, config, logger } = this.deps;
    void (async () => {
      const jsm = await jetstreamManager(nc);
      await retryTransient(() => ensureDirectConsumers(jsm, config.store.stream, stored.config, { update: true }), STARTUP_RETRY);
      logger.info({ revision: stored.revision }, "direct actors' store durables follow the config revision");
    })().catch((err) =>
      logger.error({ revision: stored.revision, err: (err as Error).message }, "direct actors' store durables could not be updated"),
    );
  }

  private startOrderedLaneInBackground(): void {
    this.startOrderedLane().catch((err) =>
      this.deps.logger.error({ err: (err as Error).message }, "ordered lane could not be created; events with ordered copies wait for it"),
    );
  }

  /** Creates (or pins) the ordered durable if needed, then pulls it in its priority group (once per replica). */
  private startOrderedLane(): Promise<void> {
    this.orderedLaneStarting ??= (async () => {
      const { nc, config, logger } = this.deps;
      const jsm = await jetstreamManager(nc);
      await retryTransient(() => ensureOrderedLaneConsumer(jsm, config.store.stream, this.opts.ackWaitMs), STARTUP_RETRY);
      this.orderedLaneReady = true;
      if (this.stopping) return;
      this.orderedLane = new OrderedLane(
        { nc, stream: config.store.stream, logger, replicaId: this.replicaId, publisher: this.publisher },
        (m, chains) => this.deliver(m, this.rules, Lane.Ordered, chains),
      );
      await this.orderedLane.start();
    })();
    this.orderedLaneStarting.catch(() => {
      this.orderedLaneStarting = undefined;
    });
    return this.orderedLaneStarting;
  }

  /** Starts every publish of one event for one lane synchronously (order matters for chains), resolves when all are acked. */
  private deliver(m: StoredEventMsg, rules: RuleSet, lane: Lane, chains?: ChainedPublisher): Promise<unknown> {
    this.delivery ??= {
      publisher: () => this.publisher,
      schemas: () => this.schemas,
      metrics: this.deps.metrics,
      tally: () => this.tally,
      orderedLaneReady: () => this.orderedLaneReady,
      orderedLaneNeeded: () => this.startOrderedLaneInBackground(),
    };
    return deliverEvent(this.delivery, m, rules, lane, chains);
  }

  private delivery?: DeliveryDeps;
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
