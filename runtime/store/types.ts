import type { MsgHdrs } from "@nats-io/transport-node";
import type { Event } from "../events/types.ts";

/** The server's answer to one JetStream publish. */
export type PubAck = Readonly<{ stream: string; seq: number; duplicate: boolean }>;

/**
 * What `EventBus.publish` reports: the event id, its store sequence, and whether the store already held it (a retry
 * inside the duplicate window). A notification (never stored) has `seq` 0 and `notification: true`.
 */
export type PublishResult = Readonly<{ id: string; seq: number; duplicate: boolean; notification?: true }>;

export type PublishOptions = Readonly<{
  id?: string;
  source?: string;
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  dataVersion?: number;
  /**
   * Send it as a notification (core NATS on `notify.<type>`, not stored, fire-and-forget) even when the config does
   * not declare its type one (`notifications.types`); `false` stores it even when it does.
   */
  notify?: boolean;
}>;

/** One message for the bulk path: where it goes, its bytes, and its headers (Nats-Msg-Id makes retries safe). */
export type OutgoingMessage = Readonly<{ subject: string; data: Uint8Array; headers?: MsgHdrs }>;

export type BulkPublisherOptions = Readonly<{
  /** Messages published but not yet acked; callers wait for a slot beyond this. */
  window?: number;
  /** A message without an ack after this long is sent again (same Nats-Msg-Id). */
  ackTimeoutMs?: number;
  /**
   * Sends per message (first try included) before its promise rejects. Answers that say "not stored yet" (no stream
   * leader, 503; message id still in process, 10158) are resent until maxAttempts x ackTimeoutMs has passed instead.
   */
  maxAttempts?: number;
  /**
   * Hold first sends until the current macrotask ends and write them together. For callers that
   * publish from many promise continuations (the indexer): otherwise the client flushes its
   * socket once per microtask turn, a write syscall for nearly every message.
   */
  coalesce?: boolean;
}>;

/** An event as the store holds it: the decoded event plus where and when it was stored. */
export type StoredEvent<D = unknown> = Readonly<{ event: Event<D>; seq: number; subject: string; time: Date }>;

/** A stored message exactly as it is on the server, for messages that do not decode. */
export type RawStoredMessage = Readonly<{
  seq: number;
  subject: string;
  time: Date;
  headers: Readonly<Record<string, string>>;
  data: Uint8Array;
}>;

export type TypeQuery = Readonly<{
  /** First store sequence to look at (a page cursor: the last seq seen + 1). */
  from?: number;
  /** At most this many events (default 100). */
  limit?: number;
  since?: Date;
  until?: Date;
}>;

export type HistoryFilter = Readonly<{
  type?: string;
  correlationId?: string;
  since?: Date;
  until?: Date;
  fromSeq?: number;
  limit?: number;
}>;

export type IndexStatus = Readonly<{
  /** Events not yet delivered to the indexer. */
  pending: number;
  /** Delivered but not yet acked (being indexed). */
  ackPending: number;
  /** Store sequence of the last event the indexer acknowledged. */
  indexedThrough: number;
  /** Last sequence in the event stream. */
  lastSeq: number;
  indexEntries: number;
}>;

export type RebuildProgress = Readonly<{ done: number; total: number }>;
