import { JetStreamApiError } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { PublishError, TimeoutError } from "../errors.ts";
import { ApiCode } from "../nats/errors.ts";
import { connectionInbox } from "../nats/inbox.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import type { BulkPublisherOptions, OutgoingMessage, PubAck } from "./types.ts";

/** Runs right before a message goes out, first send and every resend; throwing refuses it (the publish fails with that error). */
export type SendGuard = () => void;

type InFlight = {
  readonly msg: OutgoingMessage;
  readonly guard: SendGuard | undefined;
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
  /** When the message first went out: "not stored yet" answers are retried until firstSentAt + the whole budget. */
  firstSentAt: number;
  sentAt: number;
  attempts: number;
  /** Sends that went unanswered for a whole ack timeout; maxAttempts of them and the message fails. */
  silent: number;
  /** A "not yet" answer (no stream leader, id still in process): the sweep sends it again instead of a tight loop. */
  parked: boolean;
};

type Waiting = {
  readonly msg: OutgoingMessage;
  readonly guard: SendGuard | undefined;
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
};

type ApiAnswer = { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };

const decoder = new TextDecoder();
/** JetStream API error codes that mean "try again": no leader, cluster not ready. */
const RETRYABLE_API_CODES: ReadonlySet<number> = new Set([503]);
/**
 * JetStream err_codes that mean "not stored yet, ask again": 10158 (409) answers a resend whose first copy the stream
 * leader is still proposing (it may yet be stored; a later resend gets the duplicate ack with its sequence), 10167 a
 * full ingest queue that dropped the message. Refusing either would tell the caller an event failed that may be stored.
 */
const NOT_YET_ERR_CODES: ReadonlySet<number> = new Set([ApiCode.DuplicateMessageInProcess, ApiCode.TooManyRequests]);

/**
 * JetStream publishing without a request per message. The stock `js.publish()` pays for a
 * request (mux inbox entry, promise, timer) per message; here every message is a core publish
 * whose reply subject is `<inbox>.<n>` on ONE wildcard subscription, a window bounds the
 * messages in flight, and one periodic sweep (not a timer per message) resends those whose
 * ack is late. Resends keep the headers, so Nats-Msg-Id makes them safe: the stream stores
 * each message once and answers a resend with `duplicate: true` and the original sequence.
 * Every message's promise settles: with its PubAck, or with the error the server gave it.
 */
export class BulkPublisher {
  /** Under the connection's inbox prefix: users of the deploy/ accounts may only receive replies there. */
  private readonly inbox: string;
  private readonly prefixLength: number;
  private readonly inFlight = new Map<number, InFlight>();
  /** FIFO of callers waiting for a slot; `head` avoids Array.shift, which copies the whole array. */
  private waiting: Waiting[] = [];
  private head = 0;
  private readonly window: number;
  private readonly ackTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private counter = 0;
  private resends = 0;
  private readonly coalesce: boolean;
  /** Sequence numbers of messages waiting for the coalesced send (coalesce only). */
  private outbox: number[] = [];
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly nc: NatsConnection,
    opts: BulkPublisherOptions = {},
  ) {
    this.inbox = connectionInbox(nc);
    this.prefixLength = this.inbox.length + 1;
    this.window = opts.window ?? 1024;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 5000;
    this.maxAttempts = opts.maxAttempts ?? 10;
    this.coalesce = opts.coalesce ?? false;
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.floor(this.ackTimeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Sends after the first, over the publisher's life: ack timeouts and "not yet" answers. */
  get resent(): number {
    return this.resends;
  }

  /** Messages sent and not yet acked, plus those waiting for a slot. */
  get pending(): number {
    return this.inFlight.size + this.waiting.length - this.head;
  }

  /**
   * `guard` is checked before the first send and before every resend: a fenced publisher (the
   * ordered lane after losing its pin) must not send late, and a resend can come seconds later.
   */
  publish(msg: OutgoingMessage, guard?: SendGuard): Promise<PubAck> {
    if (this.closed) return Promise.reject(new PublishError("bulk publisher is closed"));
    return new Promise<PubAck>((resolve, reject) => {
      if (this.inFlight.size < this.window && this.waiting.length === this.head) this.send({ msg, guard, resolve, reject });
      else this.waiting.push({ msg, guard, resolve, reject });
    });
  }

  /** Publishes every message, keeping the window full; the result at index i belongs to message i. */
  publishAll(msgs: readonly OutgoingMessage[]): Promise<Array<PromiseSettledResult<PubAck>>> {
    return Promise.allSettled(msgs.map((m) => this.publish(m)));
  }

  /** Resolves when nothing is in flight or waiting. */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /**
   * Waits for in-flight messages to settle, then stops listening. Not past `cutShort` (the shutdown
   * paths pass "the connection is gone"), and not at all on a closed connection: no ack can come
   * then, and waiting would last the whole budget (10 x 5 s). What is still unsettled is rejected
   * with a retryable PublishError; a resend later is safe, the message keeps its Nats-Msg-Id.
   */
  async close(cutShort?: Promise<unknown>): Promise<void> {
    if (this.closed) return;
    if (!this.nc.isClosed()) await unlessCutShort(this.flush(), cutShort);
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.abandonAll();
    try {
      this.sub.unsubscribe();
    } catch {
      // a closed connection has no subscriptions left
    }
  }

  /** Rejects every message in flight or waiting, and wakes flush() callers. */
  private abandonAll(): void {
    const unsettled = [...this.inFlight.values(), ...this.waiting.slice(this.head)];
    this.inFlight.clear();
    this.waiting = [];
    this.head = 0;
    this.outbox = [];
    for (const e of unsettled)
      e.reject(new PublishError(`${e.msg.subject} not acked: the publisher closed without a connection to NATS`, { retryable: true }));
    const idle = this.idle;
    this.idle = [];
    for (const r of idle) r();
  }

  private send(w: Waiting): void {
    const n = ++this.counter;
    // fields listed, not spread: an object spread per message showed in the indexer's profile
    const now = Date.now();
    const entry: InFlight = {
      msg: w.msg,
      guard: w.guard,
      resolve: w.resolve,
      reject: w.reject,
      firstSentAt: now,
      sentAt: now,
      attempts: 0,
      silent: 0,
      parked: false,
    };
    this.inFlight.set(n, entry);
    if (!this.coalesce) return this.transmit(n, entry);
    if (this.outbox.length === 0) setImmediate(() => this.sendOutbox());
    this.outbox.push(n);
  }

  private sendOutbox(): void {
    const outbox = this.outbox;
    this.outbox = [];
    for (const n of outbox) {
      const entry = this.inFlight.get(n);
      if (entry && entry.attempts === 0) this.transmit(n, entry);
    }
  }

  private transmit(n: number, entry: InFlight): void {
    if (entry.attempts++ > 0) this.resends++;
    entry.sentAt = Date.now();
    entry.parked = false;
    try {
      entry.guard?.();
    } catch (err) {
      this.settle(n, entry, err as Error);
      return;
    }
    try {
      this.nc.publish(entry.msg.subject, entry.msg.data, { reply: `${this.inbox}.${n}`, headers: entry.msg.headers });
    } catch (err) {
      // payload over the connection's max_payload, bad subject, closed connection: this message only
      this.settle(n, entry, new PublishError(`cannot publish to ${entry.msg.subject}: ${(err as Error).message}`, { cause: err }));
    }
  }

  private onReply(msg: Msg): void {
    const n = Number(msg.subject.slice(this.prefixLength));
    const entry = this.inFlight.get(n);
    if (!entry) return; // a late ack for a message a resend already settled
    if (msg.headers?.code === 503 || (msg.data.length === 0 && msg.headers?.hasError)) {
      // no responders: the stream has no leader right now; the sweep sends it again
      entry.parked = true;
      return;
    }
    let answer: ApiAnswer;
    try {
      answer = JSON.parse(decoder.decode(msg.data)) as ApiAnswer;
    } catch (err) {
      this.settle(n, entry, new PublishError(`unreadable publish ack for ${entry.msg.subject}`, { cause: err }));
      return;
    }
    if (answer.error) {
      const code = answer.error.code ?? 0;
      const notYet = RETRYABLE_API_CODES.has(code) || NOT_YET_ERR_CODES.has(answer.error.err_code ?? 0);
      if (notYet && !this.budgetSpent(entry, Date.now())) {
        entry.parked = true;
        return;
      }
      // the server's API error as the cause: callers classify it by err_code (runtime/nats/errors.ts)
      const cause = new JetStreamApiError({
        code,
        err_code: answer.error.err_code ?? 0,
        description: answer.error.description ?? "unknown error",
      });
      this.settle(
        n,
        entry,
        new PublishError(
          `publish to ${entry.msg.subject} refused: ${cause.message} (code ${code}${cause.code ? `, err_code ${cause.code}` : ""})`,
          { cause, retryable: RETRYABLE_API_CODES.has(code) },
        ),
      );
      return;
    }
    this.settle(n, entry, { stream: answer.stream ?? "", seq: answer.seq ?? 0, duplicate: answer.duplicate === true });
  }

  private settle(n: number, entry: InFlight, outcome: PubAck | Error): void {
    this.inFlight.delete(n);
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
    while (this.inFlight.size < this.window && this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as unknown as Waiting;
      this.send(next);
    }
    if (this.head > 4096 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    if (this.pending === 0 && this.idle.length > 0) {
      const idle = this.idle;
      this.idle = [];
      for (const r of idle) r();
    }
  }

  /**
   * A message's budget is maxAttempts x ackTimeoutMs from its first send (defaults 10 x 5 s). Silent sends count
   * against maxAttempts; "not yet" answers (parked) are resent every sweep until the same budget in time is spent, since they
   * come back fast: counting them as attempts gave up after ~5 s of a leader election, which nats-server starts
   * only after 4-9 s without the old leader's heartbeats (raft's election timeout).
   */
  private budgetSpent(entry: InFlight, now: number): boolean {
    return now - entry.firstSentAt >= this.maxAttempts * this.ackTimeoutMs;
  }

  private sweep(): void {
    if (this.inFlight.size === 0) return;
    const now = Date.now();
    // parked messages wait a short while; silent ones the full ack timeout
    const parkedDelay = Math.min(250, this.ackTimeoutMs);
    for (const [n, entry] of this.inFlight) {
      const late = now - entry.sentAt >= (entry.parked ? parkedDelay : this.ackTimeoutMs);
      if (!late) continue;
      if (!entry.parked) entry.silent++;
      const spent = entry.parked ? this.budgetSpent(entry, now) : entry.silent >= this.maxAttempts;
      if (spent) {
        const waited = now - entry.firstSentAt;
        const budget = `${this.maxAttempts} x ${this.ackTimeoutMs} ms`;
        this.settle(
          n,
          entry,
          new TimeoutError(`no ack for ${entry.msg.subject}: ${entry.attempts} sends in ${waited} ms (budget ${budget})`),
        );
      } else if (!this.nc.isClosed()) {
        this.transmit(n, entry);
      }
    }
  }
}
