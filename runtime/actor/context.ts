import type { JsMsg } from "@nats-io/jetstream";
import { createEvent } from "../events/codec.ts";
import type { Event } from "../events/types.ts";
import type { Logger } from "../log.ts";
import { JetbusHeaders } from "../topology.ts";
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
 * building one per event costs one small allocation. The child logger is built on first use
 * (most handlers never log, and a pino child per event is a measurable share of dispatch cost).
 */
class DeliveryContext implements ActorContext {
  readonly actor: string;
  readonly replica: string;
  readonly deliveryCount: number;
  readonly streamSeq: number;
  readonly originSeq?: number;
  readonly options: Readonly<Record<string, unknown>>;
  readonly signal: AbortSignal;
  private childLogger?: Logger;

  constructor(private readonly event: Event, private readonly msg: JsMsg, private readonly deps: ContextDeps) {
    this.actor = deps.actor;
    this.replica = deps.replica;
    this.deliveryCount = msg.info.deliveryCount;
    this.streamSeq = msg.seq;
    this.originSeq = originSeqOf(msg);
    this.options = deps.options;
    this.signal = deps.signal;
  }

  get logger(): Logger {
    this.childLogger ??= this.deps.logger.child({ actor: this.actor, eventId: this.event.id, eventType: this.event.type, correlationId: this.event.correlationid, attempt: this.deliveryCount });
    return this.childLogger;
  }

  publish<D>(type: string, data: D, opts: FollowUpOptions = {}): Promise<PublishedEvent> {
    const e = this.event;
    try {
      const next = createEvent({ type, data, id: opts.id, source: opts.source ?? this.actor, correlationid: e.correlationid, causationid: e.id, traceparent: e.traceparent, dataversion: opts.dataVersion });
      return this.deps.publishEvent(next);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  working(): void {
    this.msg.working();
  }
}

export function createContext(event: Event, msg: JsMsg, deps: ContextDeps): ActorContext {
  return new DeliveryContext(event, msg, deps);
}
