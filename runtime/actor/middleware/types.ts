import type { JsMsg } from "@nats-io/jetstream";
import type { Event, WireMessage } from "../../events/types.ts";
import type { HandlerFn } from "../types.ts";

/** Wraps a handler: `(next) => handler`. Resolving acks, throwing fails, as for any handler. */
export type Middleware = (next: HandlerFn) => HandlerFn;

/**
 * The stages of one delivery on its way through an actor's policies. Each policy declares the
 * stage it needs and the stage it hands on, so tsc refuses a chain in the wrong order (a marker
 * check before the event is decoded, a handler before the duplicate check). One object (Handling)
 * goes through every stage; a stage is what is known of it by then.
 */

/** Stage 1: the delivery as the consumer runner handed it over. */
export interface Delivered {
  readonly msg: JsMsg;
  /** 1 on the first delivery (the message's delivery count). */
  readonly attempt: number;
  /** How long it waited for a concurrency slot (ms). */
  readonly waitedMs: number;
  /** The message as the codec reads it (header block unparsed). */
  readonly wire: WireMessage;
  /**
   * The event, decoded on first ask (once); undefined when the message is not a valid event. For
   * policies outside `decode` that report on the delivery (metrics, failure log, dead letters).
   */
  readonly event: Event | undefined;
  /** Why the message is not a valid event (after `event` was asked), else undefined. */
  readonly decodeError: unknown;
  /** Time spent in the handler (ms), once it ran. */
  readonly handlerMs: number | undefined;
  /** What the router (or a replay) wrote on the copy, read in one pass over the headers on first ask. */
  readonly copy: CopyHeaders;
  /**
   * Gives the worker's concurrency slot back: called as the handler returns or throws, so the
   * processed-marker write and the ack that follow do not hold a slot (idempotent).
   */
  freeSlot(): void;
}

/** The jetbus headers of a delivery (see JetbusHeaders). */
export type CopyHeaders = Readonly<{
  /** `jetbus-rule`: the routing rule that made the copy. */
  rule: string | undefined;
  /** `jetbus-dup-check`: the copy may be a second handling of its event. */
  dupCheck: boolean;
  /** `jetbus-replay`: the run id of a `jetbus replay` copy. */
  replay: string | undefined;
}>;

/** Stage 2: a valid event (after `decode`). */
export interface Decoded extends Delivered {
  readonly event: Event;
  /** Decides whether this delivery could be a second handling of its event (see screen.ts). */
  screen(s: Screening): Screened;
  /** The event with the traceparent of the span it is handled in (tracing). */
  retrace(traceparent: string): void;
}

/** What `screen` found: whether a duplicate is possible, and where a marker check should ask. */
export type Screening = Readonly<{
  /**
   * This delivery may be a second handling of its event: a marker (or a stateful actor's state)
   * must be read before the handler runs. False only where the server's own deduplication rules
   * a second copy out (see screen.ts and the README's Idempotency section).
   */
  duplicatePossible: boolean;
  /** Ask the marker bucket's leader (redeliveries, long waits for a slot): a lagging replica may miss a marker written a moment ago. */
  askLeader: boolean;
}>;

/** Stage 3: decoded and screened (after `screen`): ready for the duplicate check and the handler. */
export interface Screened extends Decoded, Screening {
  /** Records the handler's run time (the invoke step). */
  ran(ms: number): void;
}

/**
 * What becomes of a delivery. `error` is set when a handling failed (what the failure log and
 * the metrics report); `ran` when the handler was called.
 */
export type Outcome =
  /** not_admitted: a direct actor's store message the router quarantines (undecodable, or against its schema). */
  | Readonly<{ kind: "ack"; result: "handled" | "duplicate" | "not_admitted" }>
  | Readonly<{ kind: "nak"; delayMs: number; error?: unknown; ran?: boolean; next?: string }>
  | DeadLetterOutcome
  | Readonly<{ kind: "term"; result: "dead_lettered" | "dropped"; error: unknown; ran?: boolean }>
  /** A second copy of a message still running here: leave it alone. */
  | Readonly<{ kind: "leave" }>;

/** Given up on: the dead-letter policy stores it, then terminates the delivery (or gives it back when the store fails). */
export type DeadLetterOutcome = Readonly<{ kind: "dead-letter"; attempts: number; error: unknown; ran?: boolean; reason: string }>;

/** An outcome the worker can carry out (ack, nak, term, leave): what the dead-letter policy hands out. */
export type Settled = Exclude<Outcome, DeadLetterOutcome>;

/** The rest of the chain from stage `H` on. */
export type Step<H, O extends Outcome = Outcome> = (h: H) => Promise<O>;

/**
 * One policy: `(next) => step`, the delivery-level form of Middleware. It takes a handling at
 * stage `In` and hands `Out` on; the rest of the chain answers `ONext`, and it answers `O`.
 * A policy with nothing to do for a delivery returns `next(h)` as is (no promise of its own).
 */
export type Policy<In, Out = In, ONext extends Outcome = Outcome, O extends Outcome = ONext> = (next: Step<Out, ONext>) => Step<In, O>;
