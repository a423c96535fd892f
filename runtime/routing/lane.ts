import { jetstream, jetstreamManager, type ConsumerMessages, type ConsumerNotification, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import type { StoredEventMsg } from "./copies.ts";
import { retryTransient } from "../nats/connect.ts";
import { Delivery } from "../nats/delivered.ts";
import { rerouteUnacked } from "./catch-up.ts";

/**
 * Lifetime of a pull request. A pull lost in a consumer leader change is noticed only when it
 * should have expired (or its heartbeats stop): with the client's 30s default a competing lane
 * stalled for about that long after a node was killed.
 */
const PULL_EXPIRES_MS = 5_000;

/** A failed event is offered again after this delay (a nak, not a wait for ack_wait). */
const RETRY_DELAY_MS = 1000;

/** Routes one stored event: starts its publishes synchronously (chains rely on the call order), resolves when all are acked. */
export type RouteOne = (m: StoredEventMsg) => Promise<unknown>;

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
}>;

/**
 * One router lane: consumes one durable on the event stream in stream order and routes each
 * event with `route`, acking it only when every copy has its JetStream ack.
 */
export class RoutingLane {
  private messages?: ConsumerMessages;
  private loopDone?: Promise<void>;
  private inFlightCount = 0;
  private slotWaiters: Array<() => void> = [];
  private stopping = false;
  /** Taken from the iterator, not yet routed; routed together in one macrotask (see `take`). */
  private taken: JsMsg[] = [];
  private toAck: JsMsg[] = [];
  private toNak: JsMsg[] = [];
  private pumpScheduled = false;
  private ackScheduled = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly route: RouteOne,
    private readonly logger: Logger,
    private readonly opts: LaneOptions,
  ) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Re-routes what a previous consumer left unacked, then consumes. */
  async start(): Promise<void> {
    if (this.opts.catchUpOnStart !== false) await this.catchUp();
    if (this.stopping) return;
    const consumer = await retryTransient(() => jetstream(this.nc).consumers.get(this.opts.stream, this.opts.durable));
    const pulls = { max_messages: Math.max(256, this.opts.maxInFlight), expires: this.opts.pullExpiresMs ?? PULL_EXPIRES_MS };
    this.messages = await consumer.consume(this.opts.group ? { ...pulls, group: this.opts.group } : pulls);
    if (this.opts.onStatus) void this.watch(this.messages, this.opts.onStatus);
    this.loopDone = this.loop(this.messages);
  }

  /** Stops taking events (those already taken are given back), then waits for the ones in flight to settle. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.loopDone;
    while (this.inFlightCount > 0) await new Promise<void>((r) => this.slotWaiters.push(r));
  }

  /** See rerouteUnacked: a starting lane first re-routes what a crashed consumer left unacked. */
  private async catchUp(): Promise<void> {
    const { stream, durable } = this.opts;
    const result = await rerouteUnacked(await jetstreamManager(this.nc), stream, durable, this.route, () => this.stopping);
    if (result.rerouted > 0) this.logger.info({ durable, ...result }, "router lane re-routed unacked events before consuming");
  }

  private async watch(messages: ConsumerMessages, onStatus: (s: ConsumerNotification) => void): Promise<void> {
    for await (const s of messages.status()) onStatus(s);
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.stopping) {
          // taken after stop() was asked: give it back at once to whoever consumes next
          settleQuietly(() => m.nak());
          continue;
        }
        while (this.inFlightCount >= this.opts.maxInFlight) await new Promise<void>((r) => this.slotWaiters.push(r));
        this.take(m);
      }
    } catch (err) {
      // the connection is gone: whatever was taken and not acked comes back after ack_wait
      this.logger.warn({ durable: this.opts.durable, err: (err as Error).message }, "router lane stopped consuming");
    }
  }

  /**
   * The client writes to the socket once per microtask checkpoint, and the iterator yields one
   * message per checkpoint: routing each message as it arrives costs a socket write per event.
   * Messages are queued instead and routed together, in order, in the next macrotask, so one
   * write carries the copies of many events. Acks are batched the same way.
   */
  private take(m: JsMsg): void {
    this.inFlightCount++;
    this.taken.push(m);
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      const batch = this.taken;
      this.taken = [];
      for (const msg of batch) this.routeTaken(msg);
    });
  }

  private routeTaken(m: JsMsg): void {
    this.route(new Delivery(m)).then(
      () => this.settle(m, true),
      (err) => {
        this.logger.warn({ durable: this.opts.durable, seq: m.seq, err: (err as Error).message }, "routing failed; event offered again");
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
      for (const msg of acks) settleQuietly(() => msg.ack());
      for (const msg of naks) settleQuietly(() => msg.nak(RETRY_DELAY_MS));
      this.inFlightCount -= acks.length + naks.length;
      const waiters = this.slotWaiters;
      this.slotWaiters = [];
      for (const w of waiters) w();
    });
  }
}

/** An ack or nak on a closed connection throws; the event then simply comes back after ack_wait. */
function settleQuietly(settle: () => void): void {
  try {
    settle();
  } catch {
    // nothing to do: redelivery covers it
  }
}
