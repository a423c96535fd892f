import type { NatsConnection } from "@nats-io/transport-node";
import { createEvent, encodeEvent } from "../events/codec.ts";
import type { Event, EventData, EventType } from "../events/types.ts";
import { EventTooLargeError } from "../errors.ts";
import { endWith, SpanKind, startEventSpan } from "../observability/tracing.ts";
import { BulkPublisher } from "./bulk.ts";
import { EventSchemas } from "./schemas.ts";
import type { BulkPublisherOptions, PublishOptions, PublishResult } from "./types.ts";

export type EventBusOptions = BulkPublisherOptions &
  Readonly<{
    /** Default `source` of published events. */
    source?: string;
    /** store.max_msg_size: bigger events are refused before they are sent. */
    maxMsgSize?: number;
    schemas?: EventSchemas;
  }>;

export type NewEventInput<D = unknown> = Readonly<{ type: string; data: D } & PublishOptions>;

/**
 * The producer API. Every publish validates the data against `schemas/events/<Type>.json`
 * (when it exists), sends a binary-mode CloudEvent with Nats-Msg-Id = event id, and resolves
 * with the store's answer. Publishes share one pipelined BulkPublisher, so many concurrent
 * `publish` calls cost about what the bulk path costs; a publish retried inside the duplicate
 * window (same id) is stored once and reported `duplicate: true`.
 */
export class EventBus {
  private readonly bulk: BulkPublisher;
  private readonly schemas: EventSchemas;

  constructor(
    nc: NatsConnection,
    private readonly opts: EventBusOptions = {},
  ) {
    this.bulk = new BulkPublisher(nc, opts);
    this.schemas = opts.schemas ?? new EventSchemas();
  }

  /** Builds, validates and stores one event. `data` is checked against EventMap when `jetbus types` generated it. */
  publish<K extends EventType>(type: K, data: EventData<K>, o: PublishOptions = {}): Promise<PublishResult> {
    try {
      return this.publishEvent(this.build({ type, data, ...o }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Stores an already-built event (actors' ctx.publish, the router). Its data is validated too. */
  async publishEvent(event: Event): Promise<PublishResult> {
    this.schemas.check(event.type, event.data);
    // with an OpenTelemetry SDK, the stored event names its publish span as its parent
    const span = startEventSpan(`publish ${event.type}`, {
      kind: SpanKind.Producer,
      traceparent: event.traceparent,
      "event.id": event.id,
      "event.type": event.type,
    });
    const wire = encodeEvent(span.traceparent ? { ...event, traceparent: span.traceparent } : event);
    const limit = this.opts.maxMsgSize;
    if (limit !== undefined && limit > 0 && wire.data.length > limit) {
      const err = new EventTooLargeError(wire.data.length, limit);
      span.end(err);
      throw err;
    }
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

  /** Waits for every publish in flight to settle. */
  flush(): Promise<void> {
    return this.bulk.flush();
  }

  /** Waits for publishes in flight (not past `cutShort`: see BulkPublisher.close), then stops. */
  close(cutShort?: Promise<unknown>): Promise<void> {
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
