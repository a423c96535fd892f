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

export type RunnerOptions<P> = Readonly<{
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
  /** Work to start for a delivery that has to wait for a slot (a marker read), handed to `handle` later. */
  prepare?: (msg: JsMsg) => P;
  /**
   * Handles one delivery and settles it through ack/nak/term; should not reject (a rejection is
   * logged, the message comes back). `freeSlot` gives the delivery's slot back before it settles,
   * for work after the part the slot limits (an actor's marker write and ack after its handler).
   */
  handle: (msg: JsMsg, prepared: P | undefined, waitedMs: number, freeSlot: () => void) => Promise<void>;
  /**
   * Hand the deliveries taken in one turn of the event loop to `handle` together in the next
   * macrotask. The client flushes its socket once per microtask checkpoint and the iterator yields
   * one message per checkpoint, so handing each one over as it arrives costs a socket write per
   * event for handlers that publish at once (the router); deferred, one write carries many.
   */
  deferDispatch?: boolean;
}>;

export type StopResult = Readonly<{ finished: boolean; abandoned: number }>;

/**
 * One consume loop for every consumer of jetbus (actor workers, router lanes, the indexer):
 * `consume()` on each durable, at most `concurrency` deliveries in flight, ack deadlines kept
 * moving while a delivery waits or runs, acks sent in batches, deliveries taken after stop
 * handed straight back (nak) so another process gets them now rather than after ack_wait, and
 * a stop that lets what runs finish within a grace period.
 */
export class ConsumerRunner<P = undefined> {
  private readonly slots: Slots;
  private readonly acks = new AckBatcher();
  private readonly keepalive?: AckKeepalive;
  private readonly iterators: ConsumerMessages[] = [];
  private loops: Promise<void>[] = [];
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private deferred: Array<{ msg: JsMsg; prepared: P | undefined; waitedMs: number }> = [];
  private stopping = false;
  private stopped?: Promise<StopResult>;

  constructor(private readonly o: RunnerOptions<P>) {
    this.slots = new Slots(o.concurrency);
    if (o.ackWaitMs !== undefined) this.keepalive = new AckKeepalive(o.ackWaitMs);
  }

  /** Deliveries taken and not yet settled (those that gave their slot back early included). */
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
      const pulls = { max_messages: Math.max(1, this.o.pullBatch), expires: this.o.expiresMs ?? PULL_EXPIRES_MS };
      const messages = await consumer.consume(this.o.group ? { ...pulls, group: this.o.group } : pulls);
      this.iterators.push(messages);
      this.watch(messages, durable);
      this.loops.push(this.loop(messages, durable));
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

  private watch(messages: ConsumerMessages, durable: string): void {
    void (async () => {
      for await (const n of messages.status()) {
        this.o.onStatus?.(n);
        if (n.type === "consumer_not_found" || n.type === "consumer_deleted" || n.type === "stream_not_found")
          this.o.logger.warn({ durable, notification: n.type }, "consumer unavailable; retrying");
        else if (n.type === "heartbeats_missed") this.o.logger.debug({ durable, count: n.count }, "heartbeats missed");
      }
    })().catch(() => undefined);
  }

  private async loop(messages: ConsumerMessages, durable: string): Promise<void> {
    try {
      for await (const msg of messages) {
        if (this.stopping) {
          this.nak(msg);
          continue;
        }
        this.keepalive?.hold(msg);
        if (this.slots.tryAcquire()) {
          this.dispatch(msg, undefined, 0);
          continue;
        }
        // every slot is busy: its deadline keeps moving while it waits (it must not go to another
        // process meanwhile), and whatever can start early starts now
        const since = Date.now();
        const prepared = this.o.prepare?.(msg);
        if (!(await this.slots.acquire())) {
          this.keepalive?.release(msg);
          this.nak(msg);
          continue;
        }
        this.dispatch(msg, prepared, Date.now() - since);
      }
    } catch (err) {
      // the connection is gone: whatever was taken and not acked comes back after ack_wait
      if (!this.stopping) this.o.logger.error({ durable, err }, "consume loop ended");
    }
  }

  private dispatch(msg: JsMsg, prepared: P | undefined, waitedMs: number): void {
    this.running++;
    if (!this.o.deferDispatch) return void this.run(msg, prepared, waitedMs);
    if (this.deferred.length === 0) setImmediate(() => this.runDeferred());
    this.deferred.push({ msg, prepared, waitedMs });
  }

  private runDeferred(): void {
    const batch = this.deferred;
    this.deferred = [];
    for (const d of batch) void this.run(d.msg, d.prepared, d.waitedMs);
  }

  private async run(msg: JsMsg, prepared: P | undefined, waitedMs: number): Promise<void> {
    let holdsSlot = true;
    const freeSlot = (): void => {
      if (!holdsSlot) return;
      holdsSlot = false;
      this.slots.release();
    };
    try {
      await this.o.handle(msg, prepared, waitedMs, freeSlot);
    } catch (err) {
      this.o.logger.error({ err, seq: msg.seq }, "delivery failed unexpectedly; it will be redelivered");
    } finally {
      // the deadline keeps moving until the delivery is settled, slot or not; stop waits for it too
      this.keepalive?.release(msg);
      freeSlot();
      if (--this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Stops taking deliveries and gives `graceMs` to those in flight. Past it, deadlines stop being
   * renewed, so what is unfinished comes back after ack_wait; `onAbandon` runs first (to abort handlers).
   * `cutShort` ends the grace period early (the connection is gone: nothing in flight can be acked).
   */
  stop(graceMs: number, onAbandon?: (abandoned: number) => void, cutShort?: Promise<unknown>): Promise<StopResult> {
    this.stopped ??= this.shutdown(graceMs, onAbandon, cutShort);
    return this.stopped;
  }

  private async shutdown(graceMs: number, onAbandon?: (abandoned: number) => void, cutShort?: Promise<unknown>): Promise<StopResult> {
    this.stopping = true;
    let cutShortDone = false;
    void cutShort?.then(() => (cutShortDone = true));
    for (const it of this.iterators) void it.close().catch(() => undefined);
    this.slots.close();
    let timer: NodeJS.Timeout | undefined;
    // an infinite grace waits for everything in flight (setTimeout would take Infinity as 1 ms)
    const expired = new Promise<"expired">((r) => {
      if (Number.isFinite(graceMs)) timer = setTimeout(() => r("expired"), graceMs);
      void cutShort?.then(() => r("expired"));
    });
    // the loops first (one may be handing a buffered message a slot), then every delivery they started
    const finished = Promise.all(this.loops).then(() => this.idle());
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
