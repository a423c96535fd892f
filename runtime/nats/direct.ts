import type { Msg, MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { PublishError, TimeoutError } from "../errors.ts";
import { headerOf, statusOf } from "../events/headers.ts";
import { headerBlockOf } from "./delivered.ts";
import { connectionInbox } from "./inbox.ts";

/**
 * The stored message a direct get returned. Its headers are parsed only if asked for: a marker
 * read only needs to know whether one header is there.
 */
export class DirectMessage {
  readonly data: Uint8Array;

  constructor(
    private readonly msg: Msg,
    private readonly headerBlock: string | undefined,
  ) {
    this.data = msg.data;
  }

  get headers(): MsgHdrs {
    return this.msg.headers!;
  }

  get seq(): number {
    return Number(this.header("Nats-Sequence"));
  }

  get subject(): string {
    return this.header("Nats-Subject") ?? "";
  }

  /** The first value of one header (exact case). */
  header(name: string): string | undefined {
    return headerOf({ headerBlock: this.headerBlock, headers: this.headerBlock === undefined ? this.msg.headers : undefined }, name);
  }
}

type Ask = { readonly n: number; readonly subject: string };
type Pending = { readonly resolve: (m: DirectMessage | null) => void; readonly reject: (err: Error) => void; readonly deadline: number; readonly subject: string };

/**
 * "Last message of a subject" direct gets without a request per get. `jsm.direct.getMessage()`
 * goes through `nc.request()`, which builds two Error objects (with stack traces) and a timer
 * for every call: on hot paths (the indexer's head reads, the processed-marker reads) that was
 * a tenth of the CPU. Here every get is a core publish whose reply subject is `<inbox>.<n>` on
 * ONE wildcard subscription, and one sweep fails the gets whose answer is late. Gets asked
 * during one macrotask are written together (the client would otherwise flush its socket
 * after nearly every one, as callers ask from separate promise continuations). The subject is
 * the same one the client uses (`$JS.API.DIRECT.GET.<stream>.<subject>`), so the same
 * permissions apply. A late answer is a TimeoutError (retryable), a no-responders answer (no
 * leader) a retryable PublishError: callers retry with retryTransient.
 */
export class DirectGets {
  private readonly inbox: string;
  private readonly prefixLength: number;
  private readonly pending = new Map<number, Pending>();
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private counter = 0;
  private asks: Ask[] = [];

  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 5000) {
    this.inbox = connectionInbox(nc);
    this.prefixLength = this.inbox.length + 1;
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.floor(timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** The last message stored on `subject` in `stream`, or null when there is none. */
  lastBySubject(stream: string, subject: string): Promise<DirectMessage | null> {
    return new Promise((resolve, reject) => {
      const n = ++this.counter;
      this.pending.set(n, { resolve, reject, deadline: Date.now() + this.timeoutMs, subject });
      if (this.asks.length === 0) setImmediate(() => this.send());
      this.asks.push({ n, subject: `$JS.API.DIRECT.GET.${stream}.${subject}` });
    });
  }

  private send(): void {
    const asks = this.asks;
    this.asks = [];
    for (const { n, subject } of asks) {
      try {
        this.nc.publish(subject, undefined, { reply: `${this.inbox}.${n}` });
      } catch (err) {
        const p = this.pending.get(n);
        this.pending.delete(n);
        p?.reject(new PublishError(`cannot ask for ${subject}: ${(err as Error).message}`, { cause: err, retryable: !this.nc.isClosed() }));
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const p of this.pending.values()) p.reject(new PublishError("direct gets closed"));
    this.pending.clear();
  }

  private onReply(msg: Msg): void {
    const n = Number(msg.subject.slice(this.prefixLength));
    const p = this.pending.get(n);
    if (!p) return; // answered after the sweep gave up on it
    this.pending.delete(n);
    const block = headerBlockOf(msg);
    const code = block === undefined ? (msg.headers?.code ?? 0) : statusOf(block);
    if (code === 404) return p.resolve(null);
    if (code !== 0 || (block === undefined && !msg.headers)) {
      const text = `${code} ${msg.headers?.description || "no headers"}`;
      return p.reject(new PublishError(`direct get of ${p.subject} failed: ${text}`, { retryable: code === 503 || code === 408 }));
    }
    p.resolve(new DirectMessage(msg, block));
  }

  private sweep(): void {
    if (this.pending.size === 0) return;
    const now = Date.now();
    // every get has the same timeout, so the Map's insertion order is deadline order
    for (const [n, p] of this.pending) {
      if (now < p.deadline) break;
      this.pending.delete(n);
      p.reject(new TimeoutError(`no answer to the direct get of ${p.subject} within ${this.timeoutMs} ms`));
    }
  }
}
