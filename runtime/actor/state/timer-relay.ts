import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ConsumerRunner } from "../../consumer/runner.ts";
import { decodeEvent } from "../../events/codec.ts";
import type { Event } from "../../events/types.ts";
import type { Logger } from "../../log.ts";
import { retryTransient } from "../../nats/connect.ts";
import { orMissing } from "../../nats/missing.ts";
import { Consumers, Streams, Subjects } from "../../topology.ts";
import type { PublishedEvent } from "../types.ts";
import { purgeTimer } from "./timers.ts";

/** A fired timer comes back this long after a relay that pulled it died, and never before its publish is acked. */
const ACK_WAIT_MS = 30_000;

/** What the relay's durable takes: fired timers, and actors' cancel requests (in stream order). */
const RELAY_SUBJECTS = [Subjects.timerFireAll, Subjects.timerCancelAll];

/** Cancelled timers remembered, so a fired copy already pulled into this relay's buffer is dropped too. */
const CANCELLED_KEPT = 10_000;

/** Timers moved at once: each is a publish to the store and its ack, a round trip the others need not wait for. */
const IN_FLIGHT = 32;

/**
 * Moves fired timers into the event store: consumes `timers.fire.>` (durable `jetbus-timers`,
 * shared by every router replica) on a ConsumerRunner, publishes each as the event it carries
 * (Nats-Msg-Id = timer id), and acks only after the store's ack. A relay that dies between the
 * two makes the timer come back after ACK_WAIT_MS, well inside the store's duplicate window
 * (2 minutes by default), so the event is stored once: the timer fires once. The same durable
 * takes `timers.cancel.>`: an actor's request to cancel one of its timers, carried out here with
 * the router's right to purge (see Timers.cancel). Deliveries start in stream order; a cancel
 * counts from its start, so a fired copy taken after the request is dropped even while the purge
 * is still on its way.
 */
export class TimerRelay {
  private runner?: ConsumerRunner;
  /** `<actor>.<token>` of timers cancelled here lately (insertion order: the oldest go first). */
  private readonly cancelled = new Set<string>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly publishEvent: (event: Event) => Promise<PublishedEvent>,
    private readonly logger: Logger,
    /** Releases the publisher; `cutShort` as in stop(). */
    private readonly onStop: (cutShort?: Promise<unknown>) => Promise<void> = async () => undefined,
  ) {}

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const info = await orMissing(() => retryTransient(() => jsm.consumers.info(Streams.Timers, Consumers.timerRelay)));
    if (!info) {
      const config = {
        durable_name: Consumers.timerRelay,
        filter_subjects: RELAY_SUBJECTS,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: ACK_WAIT_MS * 1_000_000,
        max_deliver: -1,
      };
      await retryTransient(() => jsm.consumers.add(Streams.Timers, config));
    } else if (!RELAY_SUBJECTS.every((subject) => info.config.filter_subjects?.includes(subject))) {
      // a durable made before cancel requests existed filters on fired timers alone
      await retryTransient(() =>
        jsm.consumers.update(Streams.Timers, Consumers.timerRelay, { filter_subject: undefined, filter_subjects: RELAY_SUBJECTS } as never),
      );
    }
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: this.nc,
      stream: Streams.Timers,
      durables: [Consumers.timerRelay],
      concurrency: IN_FLIGHT,
      pullBatch: 256,
      ackWaitMs: ACK_WAIT_MS,
      logger: this.logger,
      handle: (m) => this.relay(runner, jsm, m),
    });
    this.runner = runner;
    await runner.start();
  }

  private async relay(r: ConsumerRunner, jsm: JetStreamManager, m: JsMsg): Promise<void> {
    const [, kind, actor = "", token = ""] = m.subject.split(".");
    if (kind === "cancel") return this.cancel(r, jsm, m, actor, token);
    if (this.cancelled.has(`${actor}.${token}`)) {
      r.term(m); // fired, pulled here, then cancelled before its turn: the purge removes it from the stream
      return;
    }
    let event: Event;
    try {
      event = decodeEvent({ subject: m.subject, data: m.data, headers: m.headers, seq: m.seq }).event;
    } catch (err) {
      // a fired timer jetbus did not write: nothing to publish, and it must not block the others
      this.logger.error({ err, subject: m.subject }, "fired timer does not hold an event; dropped");
      r.term(m);
      return;
    }
    try {
      await this.publishEvent(event);
      r.ack(m);
    } catch (err) {
      this.logger.warn({ err, eventId: event.id }, "fired timer not stored yet; retrying");
      r.nak(m, 1000);
    }
  }

  private async cancel(r: ConsumerRunner, jsm: JetStreamManager, m: JsMsg, actor: string, token: string): Promise<void> {
    const id = `${actor}.${token}`;
    // from now on a fired copy of it taken here is dropped, even before the purge is through
    this.cancelled.delete(id);
    this.cancelled.add(id);
    if (this.cancelled.size > CANCELLED_KEPT) this.cancelled.delete(this.cancelled.values().next().value!);
    try {
      await purgeTimer(jsm, actor, token);
      r.ack(m);
    } catch (err) {
      this.logger.warn({ err, subject: m.subject }, "timer not cancelled yet; retrying");
      r.nak(m, 1000);
    }
  }

  /**
   * Stops pulling and lets the timers being moved finish; not past `cutShort` (the connection is
   * gone): an unacked timer comes back after ACK_WAIT_MS and is stored once (its id is the event's).
   */
  async stop(cutShort?: Promise<unknown>): Promise<void> {
    await this.runner?.stop(Number.POSITIVE_INFINITY, undefined, cutShort);
    await this.onStop(cutShort).catch(() => undefined);
  }
}
