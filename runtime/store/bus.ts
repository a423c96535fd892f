import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { createEvent, encodeEvent } from "../events/codec.ts";
import type { Event, EventData, EventType } from "../events/types.ts";
import { EventTooLargeError } from "../errors.ts";
import { endWith, SpanKind, startEventSpan } from "../observability/tracing.ts";
import { BulkPublisher } from "./bulk.ts";
import { EventSchemas } from "./schemas.ts";
import { Subjects } from "../topology.ts";
import type { NotificationTypes } from "../config/notifications.ts";
import type { BulkPublisherOptions, PublishOptions, PublishResult } from "./types.ts";

/** Which event types are notifications: runtime/config/notifications.ts defines it and builds it from `notifications.types`. */
export type { NotificationTypes };

export type EventBusOptions = BulkPublisherOptions &
  Readonly<{
    /** Default `source` of published events. */
    source?: string;
    /** store.max_msg_size: bigger events are refused before they are sent. */
    maxMsgSize?: number;
    schemas?: EventSchemas;
    /** Types sent as notifications (core NATS, not stored) by publish() and publishEvent(); none by default. */
    notifications?: NotificationTypes;
  }>;

export type NewEventInput<D = unknown> = Readonly<{ type: string; data: D } & PublishOptions>;

/**
 * The producer API. Every publish validates the data against `schemas/events/<Type>.json`
 * (when it exists), sends a binary-mode CloudEvent with Nats-Msg-Id = event id, and resolves
 * with the store's answer. Publishes share one pipelined BulkPublisher, so many concurrent
 * `publish` calls cost about what the bulk path costs; a publish retried inside the duplicate
 * window (same id) is stored once and reported `duplicate: true`.
 *
 * A notification type (`opts.notifications`, or `{ notify: true }` on one publish) takes the other
 * way: the same envelope and schema check, sent with one core NATS publish on `notify.<type>`,
 * never stored, resolved at once (fire-and-forget: see README "Notifications" for what is lost).
 */
export class EventBus {
  private readonly bulk: BulkPublisher;
  private readonly schemas: EventSchemas;
  /** A notification was sent since the last flush(): flush() then also flushes the connection. */
  private notified = false;
  /** Notifications waiting for the end of this macrotask (sendSoon). */
  private outgoing: Array<{ subject: string; data: Uint8Array; headers: MsgHdrs }> = [];
  private sending?: NodeJS.Immediate;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: EventBusOptions = {},
  ) {
    this.bulk = new BulkPublisher(nc, opts);
    this.schemas = opts.schemas ?? new EventSchemas();
  }

  /** Builds, validates and stores one event. `data` is checked against EventMap when `jetbus types` generated it. */
  publish<K extends EventType>(type: K, data: EventData<K>, o: PublishOptions = {}): Promise<PublishResult> {
    try {
      const event = this.build({ type, data, ...o });
      if (o.notify ?? this.opts.notifications?.includes(type)) return Promise.resolve(this.notifyEvent(event));
      return this.storeEvent(event);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** publish() as a notification, whatever the config declares: not stored, handled by whoever is subscribed now. */
  notify<K extends string>(type: K, data: EventData<K>, o: Omit<PublishOptions, "notify"> = {}): Promise<PublishResult> {
    return this.publish(type, data, { ...o, notify: true });
  }

  /**
   * Publishes an already-built event (actors' ctx.publish, the router): stored, or sent as a
   * notification when its type is one. Its data is validated too.
   */
  publishEvent(event: Event): Promise<PublishResult> {
    try {
      if (this.opts.notifications?.includes(event.type)) return Promise.resolve(this.notifyEvent(event));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.storeEvent(event);
  }

  /**
   * One core publish on `notify.<type>`: no store, no ack, no retry. The client buffers it and
   * writes it with the next flush of its socket; what happens after is the subscribers' affair.
   */
  private notifyEvent(event: Event): PublishResult {
    const { span, wire } = this.envelope(event, "notify", { subject: Subjects.notify(event.type), msgId: null });
    this.sendSoon(wire);
    span.end();
    return { id: event.id, seq: 0, duplicate: false, notification: true };
  }

  /**
   * Checks the data, opens the span (with an OpenTelemetry SDK the sent event names it as its
   * parent) and encodes the event; too large an event is an EventTooLargeError (the span ends with it).
   */
  private envelope(event: Event, verb: string, opts: Parameters<typeof encodeEvent>[1] = {}) {
    this.schemas.checkEvent(event);
    const span = startEventSpan(`${verb} ${event.type}`, {
      kind: SpanKind.Producer,
      traceparent: event.traceparent,
      "event.id": event.id,
      "event.type": event.type,
    });
    try {
      const wire = encodeEvent(span.traceparent ? { ...event, traceparent: span.traceparent } : event, opts);
      const limit = this.opts.maxMsgSize;
      if (limit !== undefined && limit > 0 && wire.data.length > limit) throw new EventTooLargeError(wire.data.length, limit);
      return { span, wire };
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  /**
   * Notifications are handed to the client together at the end of the current macrotask: the
   * client writes its socket once per microtask turn, so a caller awaiting each publish would
   * otherwise cost one write (and one read on the server) per notification. In the notify bench
   * that was a fifth of the publisher's CPU, and four times the server's of a raw publisher. The
   * delay is one turn of the event loop.
   */
  private sendSoon(wire: { subject: string; data: Uint8Array; headers: MsgHdrs }): void {
    this.outgoing.push(wire);
    this.notified = true;
    if (this.sending) return;
    this.sending = setImmediate(() => this.sendNow());
  }

  private sendNow(): void {
    clearImmediate(this.sending);
    this.sending = undefined;
    const batch = this.outgoing;
    this.outgoing = [];
    for (const w of batch) {
      try {
        this.nc.publish(w.subject, w.data, { headers: w.headers });
      } catch {
        // a closed connection: fire-and-forget, the notification is lost (README "Notifications")
      }
    }
  }

  private async storeEvent(event: Event): Promise<PublishResult> {
    const { span, wire } = this.envelope(event, "publish");
    const ack = await endWith(span, this.bulk.publish(wire));
    return { id: event.id, seq: ack.seq, duplicate: ack.duplicate };
  }

  /**
   * Many events at once through the pipeline. Each event gets its own outcome, in input order:
   * one refused event (invalid data, too large, refused by the server) does not hide the others' acks.
   */
  publishMany(inputs: readonly NewEventInput[]): Promise<Array<PromiseSettledResult<PublishResult>>> {
    return Promise.allSettled(inputs.map((i) => this.publish(i.type, i.data, i)));
  }

  /** Waits for every publish in flight to settle (and, after notifications, for the server to have read them). */
  async flush(): Promise<void> {
    await this.bulk.flush();
    this.sendNow();
    if (this.notified) {
      this.notified = false;
      await this.nc.flush();
    }
  }

  /** Waits for publishes in flight (not past `cutShort`: see BulkPublisher.close), then stops. */
  async close(cutShort?: Promise<unknown>): Promise<void> {
    if (!this.nc.isClosed()) this.sendNow();
    if (this.notified && !this.nc.isClosed()) {
      this.notified = false;
      // a notification is written with the client's next socket flush: do not leave it in the buffer
      await Promise.race([this.nc.flush().catch(() => undefined), ...(cutShort ? [cutShort] : [])]);
    }
    return this.bulk.close(cutShort);
  }

  private build(i: NewEventInput): Event {
    return createEvent(
      {
        type: i.type,
        data: i.data,
        id: i.id,
        source: i.source,
        correlationid: i.correlationId,
        causationid: i.causationId,
        traceparent: i.traceparent,
        dataversion: i.dataVersion,
      },
      { source: this.opts.source },
    );
  }
}
