import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { PublishError } from "../errors.ts";
import { connectionInbox } from "../nats/inbox.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import { ResendBudget, SweepVerdict, type InFlight, type SendGuard, type Settle, type Waiting } from "./in-flight.ts";
import { AnswerKind, readPublishAnswer } from "./publish-answer.ts";
import type { BulkPublisherOptions, OutgoingMessage, PubAck } from "./types.ts";

export type { SendGuard, Settle } from "./in-flight.ts";

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
  private readonly budget: ResendBudget;
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
    this.budget = new ResendBudget(opts.ackTimeoutMs ?? 5000, opts.maxAttempts ?? 10);
    this.coalesce = opts.coalesce ?? false;
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.floor(this.budget.ackTimeoutMs / 4)));
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
    return new Promise<PubAck>((resolve, reject) =>
      this.submit(msg, (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)), guard),
    );
  }

  /**
   * publish() without a promise: `done` is called once, with the PubAck or the error. For hot
   * paths that settle many messages per event (the router): a promise and its continuation per
   * publish were a visible share of its time.
   */
  submit(msg: OutgoingMessage, done: Settle, guard?: SendGuard): void {
    if (this.closed) return done(new PublishError("bulk publisher is closed"));
    if (this.inFlight.size < this.window && this.waiting.length === this.head) this.send({ msg, guard, done });
    else this.waiting.push({ msg, guard, done });
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
      e.done(new PublishError(`${e.msg.subject} not acked: the publisher closed without a connection to NATS`, { retryable: true }));
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
      done: w.done,
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
    const answer = readPublishAnswer(msg, entry.msg.subject);
    switch (answer.kind) {
      case AnswerKind.Acked:
        return this.settle(n, entry, answer.ack);
      case AnswerKind.Refused:
        return this.settle(n, entry, answer.error);
      case AnswerKind.NotYet:
        if (this.budget.spent(entry, Date.now())) return this.settle(n, entry, answer.refusal());
        entry.parked = true;
        return;
      case AnswerKind.NoLeader:
        // the sweep sends it again
        entry.parked = true;
        return;
    }
  }

  private settle(n: number, entry: InFlight, outcome: PubAck | Error): void {
    this.inFlight.delete(n);
    entry.done(outcome);
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

  private sweep(): void {
    if (this.inFlight.size === 0) return;
    const now = Date.now();
    for (const [n, entry] of this.inFlight) {
      const verdict = this.budget.verdict(entry, now);
      if (verdict === SweepVerdict.GiveUp) this.settle(n, entry, this.budget.timedOut(entry, now));
      else if (verdict === SweepVerdict.Resend && !this.nc.isClosed()) this.transmit(n, entry);
    }
  }
}
