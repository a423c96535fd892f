import type { Event, EventData, EventType } from "../events/types.ts";
import type { Logger } from "../log.ts";

/** What a handler may do besides returning: everything about the delivery it is working on. */
export type ActorContext = Readonly<{
  /** Name of the actor (config `actors[].name`), e.g. `user-handler-1`. */
  actor: string;
  /** Replica id of the worker running this delivery. */
  replica: string;
  /** 1 on the first delivery, 2 on the first retry, ... */
  deliveryCount: number;
  /** Sequence of the inbox copy in JETBUS_INBOX. */
  streamSeq: number;
  /** Sequence of the original event in the event store (header jetbus-origin-seq), when the router set it. */
  originSeq?: number;
  /** Settings of this actor's `options` object, as written in config. */
  options: Readonly<Record<string, unknown>>;
  /** Logger bound to the event id, type, correlation id, actor and attempt. */
  logger: Logger;
  /**
   * Publishes a follow-up event to the store: correlation id and traceparent are carried over,
   * causation id = this event's id.
   */
  publish<K extends EventType>(type: K, data: EventData<K>, opts?: FollowUpOptions): Promise<PublishedEvent>;
  /** Resets the ack deadline (ack_wait): call it during long work so the event is not redelivered elsewhere. */
  working(): void;
  /** Aborted when the worker's shutdown grace period runs out: stop and throw, the event will be redelivered. */
  signal: AbortSignal;
}>;

export type FollowUpOptions = Readonly<{ id?: string; source?: string; dataVersion?: number }>;
export type PublishedEvent = Readonly<{ id: string; seq: number; duplicate: boolean }>;

/** An actor: resolve to ack, throw to fail (retried per policy, then dead-lettered). */
export interface ActorHandler {
  handle(event: Event, ctx: ActorContext): Promise<void>;
}

/** A handler class as registered by name; tsyringe builds it (every ctor param needs `@inject(TOKEN)`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructor params are injected, their types vary
export type HandlerClass = new (...args: any[]) => ActorHandler;

/** The function form of a handler, for tests and middleware: `(event, ctx) => Promise<void>`. */
export type HandlerFn = (event: Event, ctx: ActorContext) => Promise<void>;

/** Value of a `jetbus-processed-<actor>` marker. */
export type ProcessedMarker = Readonly<{ at: string; attempts: number; replica: string }>;

/** What happens to a delivery whose handler threw. */
export type FailureDecision =
  Readonly<{ kind: "retry"; delayMs: number }> | Readonly<{ kind: "dead-letter"; reason: "terminal" | "exhausted" }>;

/** One message of JETBUS_DLQ as `jetbus dlq list` shows it. */
export type DeadLetter = Readonly<{
  /** Sequence in JETBUS_DLQ: what `jetbus dlq replay` accepts besides the event id. */
  dlqSeq: number;
  actor: string;
  eventId: string;
  type: string;
  attempts: number;
  error: string;
  errorCode: string;
  originSeq?: number;
  time: Date;
}>;
