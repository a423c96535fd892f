import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { jetstream, type ConsumerMessages, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import type { ActorSettings } from "../config/types.ts";
import { decodeEvent, Header } from "../events/codec.ts";
import { headerOf } from "../events/headers.ts";
import type { Event } from "../events/types.ts";
import { TimeoutError } from "../errors.ts";
import { retryTransient } from "../nats/connect.ts";
import { Delivery } from "../nats/delivered.ts";
import { toMillis } from "../config/duration.ts";
import { AckKeepalive } from "./ack-keepalive.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { JetbusHeaders, Streams } from "../topology.ts";
import { createContext, type ContextDeps, type PublishEventFn } from "./context.ts";
import { publishDeadLetter } from "./dead-letter.ts";
import { markerKeyOf, ProcessedMarkers } from "./idempotency.ts";
import { consumersOf } from "./ordering.ts";
import { Heartbeat, presenceKey } from "../presence/mod.ts";
import { backoffDelayMs, decideFailure, errorCodeOf, errorMessageOf } from "./retry.ts";
import { Slots } from "./slots.ts";
import { AckBatcher } from "./acks.ts";
import { DeliveryLedger } from "./delivery-ledger.ts";
import type { HandlerFn } from "./types.ts";
import { compose, timeout } from "./middleware/mod.ts";

export const DEFAULT_GRACE_MS = 30_000;
/** How long a processed marker write is retried through a leader election before the worker acks without it. */
const MARKER_RETRY_MS = 30_000;

export type ActorWorkerOptions = Readonly<{
  nc: NatsConnection;
  settings: ActorSettings;
  handler: HandlerFn;
  logger: Logger;
  metrics: Metrics;
  publishEvent: PublishEventFn;
  /** Unique per worker; defaults to `<host>-<pid>-<n>`. */
  replica?: string;
  /** Replicas of the KV buckets this worker creates (config store.replicas). */
  storeReplicas?: number;
  /** The `jetbus-presence` bucket; without it the worker does not heartbeat. */
  presence?: KV;
  /** Pull request expiry in ms (the client's default, 30s, unless a test needs faster recovery). */
  expiresMs?: number;
}>;

export type StopResult = Readonly<{ finished: boolean; abandoned: number }>;

/**
 * A delivery decoded before its handling: the event, its marker key and either the marker read in
 * flight or whether to ask the bucket's leader when the slot comes; or why it does not decode.
 */
type Decoded = { event: Event; key?: string; seen?: Promise<boolean>; askLeader?: boolean } | { error: unknown };

let workerCount = 0;
const HOST = hostname().replace(/[^A-Za-z0-9_-]/g, "_");

/**
 * How long one pull request lives on the server. Short, because a pull left behind by a killed
 * worker or a worker cut off by a consumer leader change keeps taking messages (that then wait
 * out ack_wait) until it expires; the client's 30s default made failovers stall that long.
 */
const PULL_EXPIRES_MS = 5_000;

/**
 * One replica of one actor: a consume() loop per durable (one, or one per partition for ordered
 * actors), at most `concurrency` handlers in flight, each delivery acked, retried with a delayed
 * nak, or dead-lettered then terminated. Any number of workers in any number of processes
 * share the durables and split the work.
 */
export class ActorWorker {
  readonly replica: string;
  private readonly js: JetStreamClient;
  private readonly slots: Slots;
  private readonly abort = new AbortController();
  private readonly iterators: ConsumerMessages[] = [];
  /** Handlers running now, and who waits for that to reach zero (shutdown). */
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly acks = new AckBatcher();
  private readonly ledger = new DeliveryLedger();
  private readonly keepalive: AckKeepalive;
  private readonly ackWaitMs: number;
  private loops: Promise<void>[] = [];
  private markers?: ProcessedMarkers;
  private heartbeat?: Heartbeat;
  private stopping = false;
  private stopped?: Promise<StopResult>;
  private readonly log: Logger;
  private readonly ctxDeps: ContextDeps;
  private readonly handler: HandlerFn;
  private readonly m: {
    handled: { inc(): void };
    failed: { inc(): void };
    retried: { inc(): void };
    deadLettered: { inc(): void };
    skipped: { inc(): void };
    seconds: { observe(v: number): void };
  };

  constructor(private readonly o: ActorWorkerOptions) {
    this.replica = o.replica ?? `${HOST}-${process.pid}-${workerCount++}`;
    this.js = jetstream(o.nc);
    this.slots = new Slots(o.settings.concurrency);
    this.ackWaitMs = toMillis(o.settings.ack_wait);
    this.keepalive = new AckKeepalive(this.ackWaitMs);
    // every running handler may listen on the shutdown signal (directly or through ctx.signal):
    // with concurrency above 10, Node would warn of a leak that is none
    setMaxListeners(0, this.abort.signal);
    this.log = o.logger.child({ actor: o.settings.name, replica: this.replica });
    const a = o.settings.name;
    const limitMs = toMillis(o.settings.timeout);
    this.handler = limitMs > 0 ? compose(o.handler, timeout(limitMs)) : o.handler;
    this.ctxDeps = { actor: a, replica: this.replica, options: o.settings.options, logger: o.logger, publishEvent: o.publishEvent, signal: this.abort.signal };
    this.m = {
      handled: o.metrics.handled.labels(a),
      failed: o.metrics.failed.labels(a),
      retried: o.metrics.retried.labels(a),
      deadLettered: o.metrics.deadLettered.labels(a),
      skipped: o.metrics.skipped.labels(a),
      seconds: o.metrics.handlerSeconds.labels(a),
    };
  }

  get name(): string {
    return this.o.settings.name;
  }

  /** Handlers running right now. */
  get inFlight(): number {
    return this.running;
  }

  /** Opens the marker bucket, starts heartbeating, and starts consuming. The durables must exist (ensureInbox). */
  async start(): Promise<void> {
    const s = this.o.settings;
    if (s.idempotency.enabled) this.markers = await ProcessedMarkers.open(this.o.nc, s, this.o.storeReplicas ?? 1, this.replica);
    if (this.o.presence) {
      const kv = this.o.presence;
      this.heartbeat = new Heartbeat(async () => kv, presenceKey("actor", s.name, this.replica), () => ({ role: "actor", name: s.name, replica: this.replica, inFlight: this.running }), this.log);
      await this.heartbeat.start();
    }
    // an ordered partition admits one message at a time, so a bigger pull buffer would only sit idle
    const batch = s.ordered ? 1 : Math.max(1, Math.min(s.concurrency, s.max_ack_pending));
    for (const c of consumersOf(s)) {
      const consumer = await retryTransient(() => this.js.consumers.get(Streams.Inbox, c.durable));
      const messages = await consumer.consume({ max_messages: batch, expires: this.o.expiresMs ?? PULL_EXPIRES_MS });
      this.iterators.push(messages);
      this.watch(messages, c.durable);
      this.loops.push(this.loop(messages));
    }
    this.log.info({ consumers: this.iterators.length, concurrency: s.concurrency }, "actor worker started");
  }

  private watch(messages: ConsumerMessages, durable: string): void {
    void (async () => {
      for await (const n of messages.status()) {
        if (n.type === "consumer_not_found" || n.type === "consumer_deleted" || n.type === "stream_not_found") this.log.warn({ durable, notification: n.type }, "inbox consumer unavailable; retrying");
        else if (n.type === "heartbeats_missed") this.log.debug({ durable, count: n.count }, "heartbeats missed");
      }
    })().catch(() => undefined);
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        // buffered after stop: hand it back at once so another replica takes it now, not after ack_wait
        if (this.stopping) {
          msg.nak();
          continue;
        }
        let early: Decoded | undefined;
        if (!this.slots.tryAcquire()) {
          // every slot is busy: keep this delivery's deadline moving while it waits (it must not be
          // redelivered to another replica meanwhile), and ask for its marker now, so the answer
          // is there when a slot frees instead of one more round trip after
          this.keepalive.hold(msg);
          const since = Date.now();
          early = this.decode(msg, true);
          if (!(await this.slots.acquire())) {
            this.keepalive.release(msg);
            msg.nak();
            continue;
          }
          // a wait past half of ack_wait relies on renewals; if one was lost (a consumer leader
          // change) another replica may have handled the event meanwhile: ask again, and ask the leader
          if (Date.now() - since > this.ackWaitMs / 2 && "key" in early) early = { event: early.event, key: early.key, askLeader: true };
        }
        this.running++;
        void this.run(msg, early);
      }
    } catch (err) {
      if (!this.stopping) this.log.error({ err: errorMessageOf(err) }, "consume loop ended");
    }
  }

  /** One delivery in its slot; never rejects. */
  private async run(msg: JsMsg, early?: Decoded): Promise<void> {
    const fresh = this.ledger.begin(msg.seq, msg.info.timestampNanos);
    try {
      if (fresh) await this.process(msg, early ?? this.decode(msg, false));
      else this.secondCopy(msg);
    } catch (err) {
      this.log.error({ err: errorMessageOf(err), seq: msg.seq }, "delivery failed unexpectedly; it will be redelivered");
    } finally {
      if (fresh) this.ledger.end(msg.seq);
      this.keepalive.release(msg);
      this.slots.release();
      if (--this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** A second delivery of a message this worker runs or ran (see DeliveryLedger). */
  private secondCopy(msg: JsMsg): void {
    this.log.debug({ seq: msg.seq, attempt: msg.info.deliveryCount }, "second delivery of a message handled here");
    if (!this.ledger.wasHandled(msg.seq, msg.info.timestampNanos)) return;
    this.acks.ack(msg);
    this.m.skipped.inc();
  }

  /** Resolves once no handler runs (at once if none does). */
  private idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * The event of a delivery and its marker key; with `askMarker`, the marker read already on its
   * way, unless the read must go to the leader (`askLeader`: redeliveries, long waits), which
   * happens when the slot comes. A message that does not decode is returned as its error,
   * dead-lettered by process().
   */
  private decode(msg: JsMsg, askMarker: boolean): Decoded {
    const wire = new Delivery(msg, Streams.Inbox);
    let event: Event;
    try {
      event = decodeEvent(wire).event;
    } catch (err) {
      return { error: err };
    }
    if (!this.markers) return { event };
    const key = markerKeyOf(event, headerOf(wire, JetbusHeaders.Replay));
    // a redelivery reads its marker from the leader, when its slot comes (see ProcessedMarkers.hasOnLeader)
    if (msg.info.deliveryCount > 1) return { event, key, askLeader: true };
    if (!askMarker) return { event, key };
    const seen = this.markers.has(key);
    seen.catch(() => undefined); // read in process(), or dropped with the delivery at shutdown
    return { event, key, seen };
  }

  private async process(msg: JsMsg, d: Decoded): Promise<void> {
    const s = this.o.settings;
    const attempt = msg.info.deliveryCount;
    if (!("event" in d)) {
      // no attempt can make an undecodable message decodable: dead-letter it now
      this.m.failed.inc();
      const id = msg.headers?.get(Header.Id) || msg.headers?.get(Header.MsgId) || `${Streams.Inbox}-${msg.seq}`;
      this.log.error({ eventId: id, seq: msg.seq, attempt, err: errorMessageOf(d.error), code: errorCodeOf(d.error) }, "inbox message is not a valid event");
      return this.giveUp(msg, id, attempt, d.error);
    }
    const { event, key } = d;
    if (key !== undefined) {
      let seen: boolean;
      try {
        seen = await (d.seen ?? (d.askLeader ? this.markers!.hasOnLeader(key) : this.markers!.has(key)));
      } catch (err) {
        this.log.warn({ eventId: event.id, err: errorMessageOf(err) }, "cannot read the processed marker; retrying later");
        msg.nak(backoffDelayMs(s.retry.backoff, 1));
        return;
      }
      if (seen) {
        this.ledger.markHandled(msg.seq, msg.info.timestampNanos);
        this.acks.ack(msg);
        this.m.skipped.inc();
        return;
      }
    }
    if (attempt > s.retry.max_attempts) {
      // earlier deliveries ended without an ack, nak or term: the worker died or ack_wait passed
      const err = new TimeoutError(`delivered ${attempt} times; earlier attempts ended without an answer (worker killed or ack_wait expired)`);
      this.failureLog(event, attempt, err, "dead-letter");
      return this.giveUp(msg, event.id, attempt - 1, err);
    }
    const ctx = createContext(event, msg, this.ctxDeps);
    this.keepalive.hold(msg);
    const t0 = performance.now();
    try {
      await this.handler(event, ctx);
    } catch (err) {
      this.keepalive.release(msg);
      this.m.seconds.observe((performance.now() - t0) / 1000);
      return this.onFailure(msg, event, attempt, err);
    }
    this.m.seconds.observe((performance.now() - t0) / 1000);
    if (key !== undefined) {
      try {
        // a leader election of the marker bucket fails the put for a few seconds; the ack sent
        // next may be lost in the same election, and a redelivery without a marker runs twice
        await retryTransient(() => this.markers!.mark(key, attempt), { timeoutMs: MARKER_RETRY_MS });
      } catch (err) {
        // the ack below still prevents redelivery; only a redelivery racing it could run twice
        this.log.warn({ eventId: event.id, err: errorMessageOf(err) }, "processed marker not written");
      }
    }
    this.keepalive.release(msg);
    this.ledger.markHandled(msg.seq, msg.info.timestampNanos);
    this.acks.ack(msg);
    this.m.handled.inc();
  }

  private async onFailure(msg: JsMsg, event: Event, attempt: number, err: unknown): Promise<void> {
    this.m.failed.inc();
    const decision = decideFailure(this.o.settings.retry, attempt, err);
    this.failureLog(event, attempt, err, decision.kind === "retry" ? `retry in ${decision.delayMs} ms` : `dead-letter (${decision.reason})`);
    if (decision.kind === "retry") {
      msg.nak(decision.delayMs);
      this.m.retried.inc();
      return;
    }
    await this.giveUp(msg, event.id, attempt, err);
  }

  /** One structured line per failure: what failed, where, which attempt, and what happens next. */
  private failureLog(event: Event, attempt: number, err: unknown, next: string): void {
    this.log.warn(
      { eventId: event.id, eventType: event.type, correlationId: event.correlationid, attempt, maxAttempts: this.o.settings.retry.max_attempts, err: errorMessageOf(err), code: errorCodeOf(err), next },
      "handler failed",
    );
  }

  /** Dead-letter (waiting for the DLQ's ack) and only then terminate the original. */
  private async giveUp(msg: JsMsg, eventId: string, attempts: number, err: unknown): Promise<void> {
    const s = this.o.settings;
    if (s.dead_letter.enabled) {
      try {
        await publishDeadLetter(this.js, msg, { actor: s.name, eventId, attempts, error: err });
      } catch (e) {
        // keep the original: it comes back and the dead-lettering is tried again
        this.log.error({ eventId, err: errorMessageOf(e) }, "could not store the dead letter; the event stays in the inbox");
        msg.nak(backoffDelayMs(s.retry.backoff, s.retry.backoff.length));
        return;
      }
      this.m.deadLettered.inc();
    } else {
      this.log.error({ eventId, attempts, err: errorMessageOf(err) }, "dead letters disabled: event dropped");
    }
    msg.term();
    this.ledger.markHandled(msg.seq, msg.info.timestampNanos);
  }

  /**
   * Graceful stop: no new deliveries, in-flight handlers get `graceMs` to finish and ack; when the
   * grace period runs out ctx.signal aborts and what is unfinished is redelivered after ack_wait.
   */
  stop(graceMs = DEFAULT_GRACE_MS): Promise<StopResult> {
    this.stopped ??= this.shutdown(graceMs);
    return this.stopped;
  }

  private async shutdown(graceMs: number): Promise<StopResult> {
    this.stopping = true;
    for (const it of this.iterators) void it.close().catch(() => undefined);
    this.slots.close();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((r) => (timer = setTimeout(() => r("expired"), graceMs)));
    // the loops first (one may be handing a buffered message a slot), then every handler they started
    const finished = Promise.all(this.loops).then(() => this.idle());
    const outcome = await Promise.race([finished.then(() => "done" as const), expired]);
    clearTimeout(timer);
    const abandoned = outcome === "done" ? 0 : this.running;
    if (abandoned > 0) {
      this.keepalive.stop();
      this.abort.abort(new TimeoutError(`shutdown grace period of ${graceMs} ms is over`));
      this.log.warn({ abandoned }, "grace period over: unfinished events will be redelivered after ack_wait");
    }
    this.acks.flush();
    // an abandoned handler that still finishes should still get to write its marker
    if (abandoned === 0) await this.markers?.close();
    await this.heartbeat?.stop();
    // acks are fire-and-forget publishes: make sure they left before the caller drains or exits
    await this.o.nc.flush().catch(() => undefined);
    this.log.info({ abandoned }, "actor worker stopped");
    return { finished: abandoned === 0, abandoned };
  }
}
