import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { decodeEvent } from "../events/codec.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { BulkPublisher } from "../store/bulk.ts";
import { ensureEventStream } from "../store/stream.ts";
import type { OutgoingMessage, PubAck } from "../store/types.ts";
import { Consumers, Subjects } from "../topology.ts";
import { ConfigStore, type StoredConfig } from "./config-store.ts";
import { copyMessage, quarantineMessage, unroutedMessage, type StoredEventMsg } from "./copies.ts";
import { ensureInbox, ensureRouterStreams } from "./inbox.ts";
import { compileRuleSet } from "./plan.ts";
import { Heartbeat, newReplicaId, openPresenceBucket, presenceKey } from "../presence/mod.ts";
import type { RuleSet } from "./types.ts";

export type RouterDeps = Readonly<{ nc: NatsConnection; config: JetbusConfig; logger: Logger; metrics: Metrics }>;

export type RouterOptions = Readonly<{
  replicaId?: string;
  /** Events routed at once (decoded, copies published, original not yet acked). */
  maxInFlight?: number;
  /** ack_wait of the `jetbus-router` durable when this router creates it. */
  ackWaitMs?: number;
  /** Presence heartbeat period. */
  heartbeatMs?: number;
}>;

export type RouterHandle = Readonly<{
  replicaId: string;
  /** The config revision this replica routes with right now. */
  readonly revision: number;
  stop(): Promise<void>;
}>;

const ROUTER_NAME = "jetbus-router";
/** A failed event is offered again after this delay (a nak, not a wait for ack_wait). */
const RETRY_DELAY_MS = 1000;

/** Copies to one ordered-actor inbox subject, each sent only after the previous one's ack. */
type Chain = { tail: Promise<unknown>; length: number };

/**
 * The router: one replica of the competing consumers on durable `jetbus-router`.
 *
 * Messages are taken from the iterator in stream order and each is routed at once with the
 * rule set current at that moment (captured once: an event never sees two revisions). Copies
 * are pipelined through one BulkPublisher (core publishes with reply subjects, no request per
 * copy); the original is acked only when every copy has its JetStream ack. Copies for ordered
 * actors go through a per-subject chain so that, within this replica, one partition's copies
 * are stored in the order their events were consumed, even when a publish is resent.
 */
export class Router {
  readonly replicaId: string;
  private rules!: RuleSet;
  private publisher!: BulkPublisher;
  private messages?: ConsumerMessages;
  private loopDone?: Promise<void>;
  private watcher?: { stop(): void };
  private presence?: Heartbeat;
  private inFlight = 0;
  private slotWaiters: Array<() => void> = [];
  private readonly chains = new Map<string, Chain>();
  private readonly maxInFlight: number;
  private stopping = false;
  /** Taken from the iterator, not yet routed; routed together in one macrotask (see `take`). */
  private taken: JsMsg[] = [];
  private toAck: JsMsg[] = [];
  private toNak: JsMsg[] = [];
  private pumpScheduled = false;
  private ackScheduled = false;
  private stopLag?: () => void;

  constructor(private readonly deps: RouterDeps, private readonly opts: RouterOptions = {}) {
    this.replicaId = opts.replicaId ?? newReplicaId();
    this.maxInFlight = opts.maxInFlight ?? 512;
  }

  get revision(): number {
    return this.rules?.revision ?? 0;
  }

  async start(): Promise<void> {
    const { nc, config, logger } = this.deps;
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, config.store);
    await ensureInbox(jsm, config);
    await ensureRouterStreams(jsm, config);
    await this.ensureConsumer(jsm);

    const store = await ConfigStore.open(nc, { replicas: config.store.replicas });
    let initial: StoredConfig;
    try {
      initial = (await store.current()) ?? (await store.seed(config));
    } catch (err) {
      // a stored revision that does not validate (written by hand or an older jetbus): run the file's rules
      logger.error({ err: (err as Error).message }, "stored config is invalid; routing with the file config (revision 0) until a valid revision is applied");
      initial = { revision: 0, at: new Date(), config };
    }
    this.use(initial);
    this.watcher = await store.watch(
      (c) => {
        if (c.revision > this.rules.revision) this.use(c);
      },
      (revision, err) => logger.error({ revision, err: (err as Error).message }, "stored config revision is invalid; keeping the current rules"),
    );

    this.publisher = new BulkPublisher(nc, { window: 4096, ackTimeoutMs: 5000 });
    this.presence = new Heartbeat(() => openPresenceBucket(nc, config.store.replicas), presenceKey("router", ROUTER_NAME, this.replicaId), () => ({ role: "router", name: ROUTER_NAME, replica: this.replicaId, inFlight: this.inFlight, configRevision: this.revision }), logger, this.opts.heartbeatMs);
    await this.presence.start();

    await this.catchUp(jsm);
    const consumer = await jetstream(nc).consumers.get(config.store.stream, Consumers.router);
    this.messages = await consumer.consume({ max_messages: Math.max(256, this.maxInFlight) });
    this.loopDone = this.loop(this.messages);
    this.stopLag = this.deps.metrics.addLagSampler(async () => {
      const ci = await jsm.consumers.info(config.store.stream, Consumers.router);
      this.deps.metrics.consumerPending.set({ consumer: Consumers.router }, ci.num_pending + ci.num_ack_pending);
    });
    logger.info({ replica: this.replicaId, revision: this.revision, rules: this.rules.rules.length, mode: this.rules.mode }, "router started");
  }

  /** Stops taking events, waits for those in flight to be acked (drain), then leaves. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopLag?.();
    this.watcher?.stop();
    this.messages?.stop();
    await this.loopDone;
    while (this.inFlight > 0) await new Promise<void>((r) => this.slotWaiters.push(r));
    await this.publisher?.close();
    await this.presence?.stop();
    this.deps.logger.info({ replica: this.replicaId }, "router stopped");
  }

  /** Swaps the whole compiled rule set: the next event taken uses it, events in flight keep theirs. */
  private use(stored: StoredConfig): void {
    const next = compileRuleSet(stored.config, stored.revision);
    const from = this.rules?.revision;
    this.rules = next;
    if (from !== undefined) this.deps.logger.info({ replica: this.replicaId, from, to: next.revision }, "router switched config revision");
    void this.presence?.beat();
  }

  private async ensureConsumer(jsm: JetStreamManager): Promise<void> {
    const stream = this.deps.config.store.stream;
    try {
      await jsm.consumers.info(stream, Consumers.router);
      return;
    } catch {
      // not there yet
    }
    try {
      await jsm.consumers.add(stream, {
        durable_name: Consumers.router,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `${Subjects.events}.>`,
        ack_wait: (this.opts.ackWaitMs ?? 30_000) * 1_000_000,
        max_ack_pending: 20_000,
      });
    } catch (err) {
      // a replica on another node created it first
      await jsm.consumers.info(stream, Consumers.router).catch(() => {
        throw err;
      });
    }
  }

  /**
   * Events a crashed replica took but never acked come back only after ack_wait, while newer
   * events flow at once: an ordered actor could get a key's newer event first. So a starting
   * router first re-routes, in stream order, every delivered-but-unacked event (ack floor + 1 up
   * to the last delivered sequence), read straight from the stream. Copies keep their
   * Nats-Msg-Id, so whatever the crashed replica already published is deduplicated; the
   * originals are acked when their redelivery comes (again deduplicated).
   */
  private async catchUp(jsm: JetStreamManager): Promise<void> {
    const stream = this.deps.config.store.stream;
    const ci = await jsm.consumers.info(stream, Consumers.router);
    if (ci.num_ack_pending === 0) return;
    const from = ci.ack_floor.stream_seq + 1;
    const to = ci.delivered.stream_seq;
    const rules = this.rules;
    const pending: Array<Promise<unknown>> = [];
    for (let seq = from; seq <= to; seq++) {
      const sm = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!sm) continue; // acked and gone (or a gap)
      pending.push(this.deliver({ subject: sm.subject, data: sm.data, headers: sm.header, seq: sm.seq, stream, time: sm.time }, rules));
    }
    const results = await Promise.allSettled(pending);
    const failed = results.filter((r) => r.status === "rejected").length;
    this.deps.logger.info({ replica: this.replicaId, from, to, rerouted: pending.length, failed }, "router re-routed unacked events before consuming");
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.stopping) {
        // taken after stop() was asked: give it back at once to whichever replica is still running
        m.nak();
        continue;
      }
      while (this.inFlight >= this.maxInFlight) await new Promise<void>((r) => this.slotWaiters.push(r));
      this.take(m);
    }
  }

  /**
   * The client writes to the socket once per microtask checkpoint, and the iterator yields one
   * message per checkpoint: routing each message as it arrives costs a socket write per event.
   * Messages are queued instead and routed together, in order, in the next macrotask, so one
   * write carries the copies of many events. Acks are batched the same way.
   */
  private take(m: JsMsg): void {
    this.inFlight++;
    this.taken.push(m);
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      const batch = this.taken;
      this.taken = [];
      for (const msg of batch) this.route(msg);
    });
  }

  private route(m: JsMsg): void {
    const rules = this.rules;
    const stored: StoredEventMsg = { subject: m.subject, data: m.data, headers: m.headers, seq: m.seq, stream: m.info.stream, time: new Date(Math.floor(m.info.timestampNanos / 1_000_000)) };
    this.deliver(stored, rules).then(
      () => this.settle(m, true),
      (err) => {
        this.deps.logger.warn({ seq: m.seq, err: (err as Error).message }, "routing failed; event offered again");
        this.settle(m, false);
      },
    );
  }

  private settle(m: JsMsg, ok: boolean): void {
    (ok ? this.toAck : this.toNak).push(m);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      const acks = this.toAck, naks = this.toNak;
      this.toAck = [];
      this.toNak = [];
      for (const msg of acks) msg.ack();
      for (const msg of naks) msg.nak(RETRY_DELAY_MS);
      this.inFlight -= acks.length + naks.length;
      const waiters = this.slotWaiters;
      this.slotWaiters = [];
      for (const w of waiters) w();
    });
  }

  /** Starts every publish for one event synchronously (order matters for chains), resolves when all are acked. */
  private deliver(m: StoredEventMsg, rules: RuleSet): Promise<unknown> {
    const { metrics } = this.deps;
    let event;
    try {
      event = decodeEvent({ subject: m.subject, data: m.data, headers: m.headers, seq: m.seq, stream: m.stream, timestamp: m.time }, { maxBytes: Number.MAX_SAFE_INTEGER }).event;
    } catch (err) {
      return this.publisher.publish(quarantineMessage(m, (err as Error).message)).then(() => metrics.quarantined.inc());
    }
    const copies = rules.plan(event);
    if (copies.length === 0) return this.publisher.publish(unroutedMessage(m, event, rules.revision)).then(() => metrics.unrouted.inc());
    return Promise.all(
      copies.map((c) => {
        const msg = copyMessage(c, m.seq, rules.revision);
        const acked = c.ordered ? this.inOrder(c.subject, msg) : this.publisher.publish(msg);
        return acked.then(() => metrics.routed.inc({ actor: c.actor }));
      }),
    );
  }

  /**
   * Publishes after the previous copy to the same subject is acked. A failed link fails every
   * later link of its chain without publishing it, so a later event of a key never overtakes an
   * earlier one that could not be delivered; the chain restarts once it has drained.
   */
  private inOrder(subject: string, msg: OutgoingMessage): Promise<PubAck> {
    let chain = this.chains.get(subject);
    if (!chain) {
      chain = { tail: Promise.resolve(), length: 0 };
      this.chains.set(subject, chain);
    }
    const c = chain;
    const acked = c.tail.then(() => this.publisher.publish(msg));
    c.tail = acked;
    c.length++;
    const release = () => {
      if (--c.length === 0 && this.chains.get(subject) === c) this.chains.delete(subject);
    };
    acked.then(release, release);
    return acked;
  }
}

/** Starts one router replica (used by `jetbus router` and `jetbus up`). */
export async function startRouter(deps: RouterDeps, opts: RouterOptions = {}): Promise<RouterHandle> {
  const router = new Router(deps, opts);
  await router.start();
  return {
    replicaId: router.replicaId,
    get revision() {
      return router.revision;
    },
    stop: () => router.stop(),
  };
}
