import type { JsMsg } from "@nats-io/jetstream";
import type { Event, WireMessage } from "../../events/types.ts";
import type { HandlerFn } from "../types.ts";

/** Wraps a handler: `(next) => handler`. Resolving acks, throwing fails, as for any handler. */
export type Middleware = (next: HandlerFn) => HandlerFn;

/**
 * One inbox delivery on its way through an actor's policies. Each policy reads what the outer
 * ones found (the event, its marker key) and adds its own; nothing here touches the message's
 * ack state: the worker settles the delivery from the Outcome the chain returns.
 */
export type Handling = {
  readonly msg: JsMsg;
  /** 1 on the first delivery (the message's delivery count). */
  readonly attempt: number;
  /** The message as the codec reads it (header block unparsed), once decode looked at it. */
  wire?: WireMessage;
  /** Set by decode (or early, while the delivery waited for a slot). */
  event?: Event;
  decodeError?: unknown;
  /** Processed-marker key, and its read when started early. */
  markerKey?: string;
  markerSeen?: Promise<boolean>;
  /** Read the marker from the bucket's leader (redeliveries, long waits for a slot). */
  askLeader?: boolean;
  /** Time spent in the handler, when it ran (ms). */
  handlerMs?: number;
  /**
   * Gives the worker's concurrency slot back: called as the handler returns or throws, so the
   * processed-marker write and the ack that follow do not hold a slot (idempotent).
   */
  freeSlot?: () => void;
};

/**
 * What becomes of a delivery. `error` is set when a handling failed (what the failure log and
 * the metrics report); `ran` when the handler was called.
 */
export type Outcome =
  /** not_admitted: a direct actor's store message the router quarantines (undecodable, or against its schema). */
  | Readonly<{ kind: "ack"; result: "handled" | "duplicate" | "not_admitted" }>
  | Readonly<{ kind: "nak"; delayMs: number; error?: unknown; ran?: boolean; next?: string }>
  | Readonly<{ kind: "dead-letter"; attempts: number; error: unknown; ran?: boolean; reason: string }>
  | Readonly<{ kind: "term"; result: "dead_lettered" | "dropped"; error: unknown; ran?: boolean }>
  /** A second copy of a message still running here: leave it alone. */
  | Readonly<{ kind: "leave" }>;

export type Step = (h: Handling) => Promise<Outcome>;

/** Wraps the rest of the chain: `(next) => step`, the delivery-level form of Middleware. */
export type Policy = (next: Step) => Step;
