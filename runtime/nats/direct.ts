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
    readonly headerBlock: string | undefined,
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

type Ask = { readonly subject: string; readonly resolve: (m: DirectMessage | null) => void; readonly reject: (err: Error) => void };
/** One request in flight: a single get, or a batch whose answers are matched to the asks by subject. */
type Pending = { readonly stream: string; readonly deadline: number; readonly asks: Map<string, Ask[]> };

/**
 * Subjects asked in one batched get at most. Each literal subject has at most one answer, so
 * `batch` = the number of subjects never truncates; the bound keeps one request's answer burst
 * (and a lost request's retry) small.
 */
const MAX_BATCH = 256;

/**
 * "Last message of a subject" direct gets without a request per get. `jsm.direct.getMessage()`
 * goes through `nc.request()`, which builds two Error objects (with stack traces) and a timer
 * for every call: on hot paths (the processed-marker reads) that was a tenth of the CPU. Here
 * the gets asked during one macrotask (callers ask from separate promise continuations) go out
 * together: several subjects of one stream as ONE batched direct get (`multi_last`, nats-server
 * 2.11+), answered message by message and closed by an EOB status, a lone subject as a plain
 * get; every reply arrives on one wildcard subscription, and one sweep fails the requests whose
 * answer is late. The subject is the one the client uses (`$JS.API.DIRECT.GET.<stream>...`), so
 * the same permissions apply. A late answer is a TimeoutError (retryable), a no-responders
 * answer (no leader) a retryable PublishError: callers retry with retryTransient.
 */
export class DirectGets {
  private readonly inbox: string;
  private readonly prefixLength: number;
  private readonly pending = new Map<number, Pending>();
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private counter = 0;
  /** Asks of this macrotask, per stream. */
  private asks = new Map<string, Ask[]>();
  private scheduled = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 5000,
  ) {
    this.inbox = connectionInbox(nc);
    this.prefixLength = this.inbox.length + 1;
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweeper = setInterval(() => this.sweep(), Math.max(20, Math.floor(timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** The last message stored on `subject` in `stream`, or null when there is none. */
  lastBySubject(stream: string, subject: string): Promise<DirectMessage | null> {
    return new Promise((resolve, reject) => {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
      let list = this.asks.get(stream);
      if (!list) this.asks.set(stream, (list = []));
      list.push({ subject, resolve, reject });
    });
  }

  private send(): void {
    this.scheduled = false;
    const byStream = this.asks;
    this.asks = new Map();
    for (const [stream, asks] of byStream)
      for (let i = 0; i < asks.length; i += MAX_BATCH) this.request(stream, asks.slice(i, i + MAX_BATCH));
  }

  private request(stream: string, asks: readonly Ask[]): void {
    const n = ++this.counter;
    const bySubject = new Map<string, Ask[]>();
    for (const a of asks) {
      const same = bySubject.get(a.subject);
      if (same) same.push(a);
      else bySubject.set(a.subject, [a]);
    }
    this.pending.set(n, { stream, deadline: Date.now() + this.timeoutMs, asks: bySubject });
    const reply = `${this.inbox}.${n}`;
    try {
      if (bySubject.size === 1) this.nc.publish(`$JS.API.DIRECT.GET.${stream}.${asks[0]!.subject}`, undefined, { reply });
      else
        this.nc.publish(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify({ multi_last: [...bySubject.keys()], batch: bySubject.size }), {
          reply,
        });
    } catch (err) {
      this.fail(
        n,
        new PublishError(`cannot ask ${stream} for ${bySubject.size} subject(s): ${(err as Error).message}`, {
          cause: err,
          retryable: !this.nc.isClosed(),
        }),
      );
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const n of [...this.pending.keys()]) this.fail(n, new PublishError("direct gets closed"));
    for (const asks of this.asks.values()) for (const a of asks) a.reject(new PublishError("direct gets closed"));
    this.asks.clear();
  }

  private onReply(msg: Msg): void {
    const n = Number(msg.subject.slice(this.prefixLength));
    const p = this.pending.get(n);
    if (!p) return; // answered after the sweep gave up on it
    const block = headerBlockOf(msg);
    const code = block === undefined ? (msg.headers?.code ?? 0) : statusOf(block);
    if (code === 0 && (block !== undefined || msg.headers)) {
      const m = new DirectMessage(msg, block);
      const subject = p.asks.size === 1 ? p.asks.keys().next().value! : m.subject;
      const asks = p.asks.get(subject);
      p.asks.delete(subject);
      for (const a of asks ?? []) a.resolve(m);
      if (p.asks.size === 0) this.pending.delete(n);
      return;
    }
    this.pending.delete(n);
    if (code === 404) return this.resolveRest(p, null);
    if (code === 204) {
      // end of a batch: subjects without an answer have no message, unless the server cut the batch short
      const more = Number(
        block === undefined ? msg.headers?.get("Nats-Num-Pending") : headerOf({ headerBlock: block }, "Nats-Num-Pending"),
      );
      if (more > 0) return this.askAgain(p);
      return this.resolveRest(p, null);
    }
    const text = `${code} ${msg.headers?.description || "no headers"}`;
    const err = new PublishError(`direct get of ${[...p.asks.keys()].slice(0, 3).join(", ")} from ${p.stream} failed: ${text}`, {
      retryable: code === 503 || code === 408,
    });
    for (const asks of p.asks.values()) for (const a of asks) a.reject(err);
  }

  private resolveRest(p: Pending, value: null): void {
    for (const asks of p.asks.values()) for (const a of asks) a.resolve(value);
  }

  /** Subjects a truncated batch did not answer: asked again, one get each. */
  private askAgain(p: Pending): void {
    for (const [subject, asks] of p.asks)
      this.request(
        p.stream,
        asks.map((a) => ({ ...a, subject })),
      );
  }

  private fail(n: number, err: Error): void {
    const p = this.pending.get(n);
    this.pending.delete(n);
    if (p) for (const asks of p.asks.values()) for (const a of asks) a.reject(err);
  }

  private sweep(): void {
    if (this.pending.size === 0) return;
    const now = Date.now();
    // every request has the same timeout, so the Map's insertion order is deadline order
    for (const [n, p] of this.pending) {
      if (now < p.deadline) break;
      this.fail(
        n,
        new TimeoutError(`no answer to the direct get of ${p.asks.size} subject(s) from ${p.stream} within ${this.timeoutMs} ms`),
      );
    }
  }
}
