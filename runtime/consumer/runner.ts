import { jetstream, type ConsumerMessages, type ConsumerNotification, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { retryTransient } from "../nats/connect.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import { AckBatcher } from "./acks.ts";
import { AckKeepalive } from "./keepalive.ts";
import { Slots } from "./slots.ts";

/**
 * How long one pull request lives on the server. Short, because a pull left behind by a killed
 * process, or cut off by a consumer leader change, keeps taking messages (that then wait out
 * ack_wait) until it expires; the client's 30s default made failovers stall that long.
 */
export const PULL_EXPIRES_MS = 5_000;

/** What `handle` gets besides the message: how long it waited for a slot, and its slot to give back early. */
export interface Taken {
  /** Time between its arrival and its slot (0 when a slot was free). */
  readonly waitedMs: number;
  /**
   * Gives the delivery's slot back before it settles, for work after the part the slot limits
   * (an actor's marker write and ack after its handler); a second call does nothing.
   */
  freeSlot(): void;
}

export type RunnerOptions = Readonly<{
  nc: NatsConnection;
  stream: string;
  /** Durables consumed in parallel (one, or one per partition of an ordered actor). */
  durables: readonly string[];
  /** Durables of other streams consumed as well (a direct actor's durable on the event store). */
  alsoFrom?: readonly Readonly<{ stream: string; durable: string }>[];
  /** Deliveries handled at once; a delivery past that waits for a slot. */
  concurrency: number;
  /** max_messages of each pull. */
  pullBatch: number;
  expiresMs?: number;
  /** Pull in this priority group (a pinned durable: the server delivers to one client of the group at a time). */
  group?: string;
  /** The client's notifications about the pulls (pull sent, pinned, unpinned, heartbeats), besides the runner's own log lines. */
  onStatus?: (s: ConsumerNotification) => void;
  /** With it, every delivery held here (waiting or running) has its ack deadline renewed every third of it. */
  ackWaitMs?: number;
  logger: Logger;
  /**
   * Handles one delivery and settles it through ack/nak/term; should not reject (a rejection is
   * logged, the message comes back after ack_wait). May return nothing when it settled at once.
   */
  handle: (msg: JsMsg, taken: Taken) => Promise<void> | void;
  /**
   * Start the deliveries of one batch in the next macrotask rather than in a microtask. A handler
   * that publishes from promise continuations at scattered depths (the router: one publish per
   * copy after its rule ran) would otherwise cost a socket write per publish, since the client
   * flushes once per microtask checkpoint; started in one macrotask, one write carries many.
   */
  deferDispatch?: boolean;
}>;

export type StopResult = Readonly<{ finished: boolean; abandoned: number }>;

/** One delivery held by the runner, waiting for a slot or running. */
class Held implements Taken {
  waitedMs = 0;
  holdsSlot = false;

  constructor(
    readonly msg: JsMsg,
    /** Date.now() of the batch it arrived in. */
    readonly since: number,
    private readonly runner: ConsumerRunner,
  ) {}

  freeSlot(): void {
    if (!this.holdsSlot) return;
    this.holdsSlot = false;
    this.runner.release();
  }
}

/**
 * One consumer for every durable consumer of jetbus (actor workers, router lanes, the indexer,
 * the timer relay): `consume()` on each durable in its callback form, at most `concurrency`
 * deliveries in flight, ack deadlines kept moving while a delivery waits or runs, acks sent in
 * batches, deliveries taken after stop handed straight back (nak) so another process gets them
 * now rather than after ack_wait, and a stop that lets what runs finish within a grace period.
 *
 * Batch-wise: the client calls back once per message, synchronously for every message of one
 * socket read; those are collected and started together (one clock read, one scheduling) in the
 * microtask after the read, or the macrotask with deferDispatch. Measured on nats-server 2.15.1,
 * a no-op drain with `for await` over `consume()` took twice the consumer CPU of the callback form
 * (an iterator step and a socket write per message).
 */
export class ConsumerRunner {
  private readonly slots: Slots<Held>;
  private readonly acks = new AckBatcher();
  private readonly keepalive?: AckKeepalive;
  private readonly consumers: ConsumerMessages[] = [];
  /** Arrived since the last batch started. */
  private arrived: JsMsg[] = [];
  private running = 0;
  /** Waiters that got a slot, started in order by the release that is running (see release). */
  private ready: Held[] = [];
  private idleWaiters: Array<() => void> = [];
  private stopping = false;
  private stopped?: Promise<StopResult>;
  private readonly startBatch = (): void => this.runBatch();

  constructor(private readonly o: RunnerOptions) {
    this.slots = new Slots(o.concurrency);
    if (o.ackWaitMs !== undefined) this.keepalive = new AckKeepalive(o.ackWaitMs);
  }

  /** Deliveries taken and not yet settled (waiting for a slot, running, or past their slot). */
  get inFlight(): number {
    return this.running;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  async start(): Promise<void> {
    const js = jetstream(this.o.nc);
    const sources = [...this.o.durables.map((durable) => ({ stream: this.o.stream, durable })), ...(this.o.alsoFrom ?? [])];
    for (const { stream, durable } of sources) {
      if (this.stopping) return;
      const consumer = await retryTransient(() => js.consumers.get(stream, durable));
      const pulls = {
        max_messages: Math.max(1, this.o.pullBatch),
        expires: this.o.expiresMs ?? PULL_EXPIRES_MS,
        // never throws: a throw from here would stop the client's consumer
        callback: (msg: JsMsg) => this.arrive(msg),
      };
      const messages = await consumer.consume(this.o.group ? { ...pulls, group: this.o.group } : pulls);
      this.consumers.push(messages);
      this.watch(messages, durable);
    }
  }

  /** Acks are batched per macrotask (see AckBatcher). */
  ack(msg: JsMsg): void {
    this.acks.ack(msg);
  }

  nak(msg: JsMsg, delayMs?: number): void {
    quietly(() => msg.nak(delayMs));
  }

  term(msg: JsMsg): void {
    quietly(() => msg.term());
  }

  /** A slot given back (Held.freeSlot): the first waiter takes it. */
  release(): void {
    const next = this.slots.release();
    if (!next) return;
    this.ready.push(next);
    // a handler that frees its slot synchronously would otherwise start the next one inside itself, and so on down the queue
    if (this.ready.length > 1) return;
    const now = Date.now();
    for (let i = 0; i < this.ready.length; i++) this.begin(this.ready[i]!, now);
    this.ready = [];
  }

  private watch(messages: ConsumerMessages, durable: string): void {
    void (async () => {
      for await (const n of messages.status()) {
        this.o.onStatus?.(n);
        if (n.type === "consumer_not_found" || n.type === "consumer_deleted" || n.type === "stream_not_found")
          this.o.logger.warn({ durable, notification: n.type }, "consumer unavailable; retrying");
        else if (n.type === "heartbeats_missed") this.o.logger.debug({ durable, count: n.count }, "heartbeats missed");
      }
    })().catch(() => undefined);
    // the connection is gone: whatever was taken and not acked comes back after ack_wait
    void messages.closed().then(
      (err) => {
        if (err && !this.stopping) this.o.logger.error({ durable, err }, "consume loop ended");
      },
      (err: unknown) => {
        if (!this.stopping) this.o.logger.error({ durable, err }, "consume loop ended");
      },
    );
  }

  private arrive(msg: JsMsg): void {
    if (this.stopping) return this.nak(msg);
    if (this.arrived.length === 0) {
      if (this.o.deferDispatch) setImmediate(this.startBatch);
      else queueMicrotask(this.startBatch);
    }
    this.arrived.push(msg);
  }

  /** Starts what arrived: a slot for each while there are free ones, a place in the queue for the rest. */
  private runBatch(): void {
    const batch = this.arrived;
    this.arrived = [];
    const now = Date.now();
    for (const msg of batch) {
      if (this.stopping) {
        this.nak(msg);
        continue;
      }
      this.running++;
      // every delivery held here keeps its deadline moving, waiting or running: it must not go to
      // another process meanwhile
      this.keepalive?.hold(msg, now);
      const d = new Held(msg, now, this);
      if (this.slots.offer(d)) this.begin(d, now);
    }
  }

  private begin(d: Held, now: number): void {
    d.holdsSlot = true;
    if (now > d.since) d.waitedMs = now - d.since;
    let result: Promise<void> | void;
    try {
      result = this.o.handle(d.msg, d);
    } catch (err) {
      this.failed(d, err);
      return;
    }
    if (result === undefined) this.settled(d);
    else
      result.then(
        () => this.settled(d),
        (err: unknown) => this.failed(d, err),
      );
  }

  private failed(d: Held, err: unknown): void {
    this.o.logger.error({ err, seq: d.msg.seq }, "delivery failed unexpectedly; it will be redelivered");
    this.settled(d);
  }

  private settled(d: Held): void {
    // the deadline keeps moving until the delivery is settled, slot or not; stop waits for it too
    this.keepalive?.release(d.msg);
    d.freeSlot();
    if (--this.running === 0 && this.idleWaiters.length > 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Stops taking deliveries (those waiting for a slot, or arriving now, are handed back) and gives
   * `graceMs` to those running. Past it, deadlines stop being renewed, so what is unfinished comes
   * back after ack_wait; `onAbandon` runs first (to abort handlers). `cutShort` ends the grace
   * period early (the connection is gone: nothing in flight can be acked).
   */
  stop(graceMs: number, onAbandon?: (abandoned: number) => void, cutShort?: Promise<unknown>): Promise<StopResult> {
    this.stopped ??= this.shutdown(graceMs, onAbandon, cutShort);
    return this.stopped;
  }

  private async shutdown(graceMs: number, onAbandon?: (abandoned: number) => void, cutShort?: Promise<unknown>): Promise<StopResult> {
    this.stopping = true;
    let cutShortDone = false;
    void cutShort?.then(() => (cutShortDone = true));
    const closing = this.consumers.map((c) => c.close().catch(() => undefined));
    for (const d of this.slots.close()) {
      this.keepalive?.release(d.msg);
      this.nak(d.msg);
      this.running--;
    }
    let timer: NodeJS.Timeout | undefined;
    // an infinite grace waits for everything in flight (setTimeout would take Infinity as 1 ms)
    const expired = new Promise<"expired">((r) => {
      if (Number.isFinite(graceMs)) timer = setTimeout(() => r("expired"), graceMs);
      void cutShort?.then(() => r("expired"));
    });
    // the pulls first (a message of the last socket read may still arrive, to be handed back), then every delivery running
    const finished = Promise.all(closing).then(() => this.idle());
    const outcome = await Promise.race([finished.then(() => "done" as const), expired]);
    clearTimeout(timer);
    const abandoned = outcome === "done" ? 0 : this.running;
    if (abandoned > 0) {
      this.keepalive?.stop();
      onAbandon?.(abandoned);
    }
    this.acks.flush();
    // acks are fire-and-forget publishes: make sure they left before the caller drains or exits
    // (a flush needs the server's answer: with the connection gone it would wait for a reconnect)
    if (!cutShortDone)
      await unlessCutShort(
        this.o.nc.flush().catch(() => undefined),
        cutShort,
      );
    return { finished: abandoned === 0, abandoned };
  }
}

/** An ack or nak on a closed connection throws; the message then simply comes back after ack_wait. */
function quietly(settle: () => void): void {
  try {
    settle();
  } catch {
    // redelivery covers it
  }
}
