import type { JsMsg } from "@nats-io/jetstream";
import { createEvent } from "../events/codec.ts";
import type { Event, EventData } from "../events/types.ts";
import type { Logger } from "../log.ts";
import { JetbusHeaders } from "../topology.ts";
import type { Screening } from "./middleware/types.ts";
import type { ActorContext, FollowUpOptions, PublishedEvent } from "./types.ts";

/** Stores one event; the worker passes the store's EventBus.publishEvent. */
export type PublishEventFn = (event: Event) => Promise<PublishedEvent>;

export type ContextDeps = Readonly<{
  actor: string;
  replica: string;
  options: Readonly<Record<string, unknown>>;
  logger: Logger;
  publishEvent: PublishEventFn;
  signal: AbortSignal;
}>;

export function originSeqOf(msg: Pick<JsMsg, "headers">): number | undefined {
  const v = msg.headers?.get(JetbusHeaders.OriginSeq);
  const n = v ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The ctx of one delivery. A class, not an object literal: its methods live on the prototype, so
 * building one per event costs one small allocation. The child logger and the header lookups are
 * done on first use (most handlers never log, and a pino child per event is a measurable share of
 * dispatch cost).
 */
class DeliveryContext implements ActorContext {
  readonly actor: string;
  readonly replica: string;
  readonly deliveryCount: number;
  readonly streamSeq: number;
  readonly options: Readonly<Record<string, unknown>>;
  private childLogger?: Logger;

  constructor(
    private readonly event: Event,
    /** The delivery (deliveredBy reads its consumer and delivery sequence). */
    readonly delivery: JsMsg,
    private readonly deps: ContextDeps,
    /** Whether this delivery may be a second handling (screen): what a stateful actor's duplicate check goes by. */
    readonly screening: Screening | undefined,
    /** A middleware's narrower signal, built only if the handler asks for it. */
    private readonly signalOf?: () => AbortSignal,
  ) {
    this.actor = deps.actor;
    this.replica = deps.replica;
    this.deliveryCount = delivery.info.deliveryCount;
    this.streamSeq = delivery.seq;
    this.options = deps.options;
  }

  get originSeq(): number | undefined {
    return originSeqOf(this.delivery);
  }

  get signal(): AbortSignal {
    return this.signalOf ? this.signalOf() : this.deps.signal;
  }

  get logger(): Logger {
    this.childLogger ??= this.deps.logger.child({
      actor: this.actor,
      eventId: this.event.id,
      eventType: this.event.type,
      correlationId: this.event.correlationid,
      attempt: this.deliveryCount,
    });
    return this.childLogger;
  }

  publish<K extends string>(type: K, data: EventData<K>, opts: FollowUpOptions = {}): Promise<PublishedEvent> {
    const e = this.event;
    try {
      const next = createEvent({
        type,
        data,
        id: opts.id,
        source: opts.source ?? this.actor,
        correlationid: e.correlationid,
        causationid: e.id,
        traceparent: e.traceparent,
        dataversion: opts.dataVersion,
      });
      return this.deps.publishEvent(next);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  working(): void {
    this.delivery.working();
  }

  withSignal(signalOf: () => AbortSignal): ActorContext {
    return new DeliveryContext(this.event, this.delivery, this.deps, this.screening, signalOf);
  }
}

export function createContext(event: Event, msg: JsMsg, deps: ContextDeps, screening?: Screening): ActorContext {
  return new DeliveryContext(event, msg, deps, screening);
}

/** Which durable delivered the message behind `ctx`, and its delivery sequence there (counts every delivery, redeliveries too). */
export type DeliveredBy = Readonly<{ consumer: string; deliverySequence: number }>;

/** The durable and delivery sequence of the delivery behind `ctx`; undefined for a ctx made elsewhere. */
export function deliveredBy(ctx: ActorContext): DeliveredBy | undefined {
  if (!(ctx instanceof DeliveryContext)) return undefined;
  const info = ctx.delivery.info;
  return { consumer: info.consumer, deliverySequence: info.deliverySequence };
}

/**
 * What the worker's screen found for the delivery behind `ctx` (middleware that rebuild the ctx
 * keep it through withSignal); undefined for a ctx made elsewhere: the caller must then assume
 * a duplicate is possible.
 */
export function screeningOf(ctx: ActorContext): Screening | undefined {
  return ctx instanceof DeliveryContext ? ctx.screening : undefined;
}

/**
 * The same delivery's ctx with another abort signal (a middleware narrowing how long the handler
 * may take), obtained from `signalOf` only when the handler reads ctx.signal.
 */
export function withSignal(ctx: ActorContext, signalOf: () => AbortSignal): ActorContext {
  if (ctx instanceof DeliveryContext) return ctx.withSignal(signalOf);
  return Object.defineProperty({ ...ctx }, "signal", { get: signalOf, enumerable: true });
}
