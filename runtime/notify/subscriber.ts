import { setMaxListeners } from "node:events";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { ContextDeps } from "../actor/context.ts";
import { errorCodeOf } from "../actor/retry.ts";
import type { HandlerFn } from "../actor/types.ts";
import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import { TimeoutError } from "../errors.ts";
import { decodeEvent } from "../events/codec.ts";
import type { Event, WireMessage } from "../events/types.ts";
import { upcast } from "../events/versions/upcast.ts";
import type { Logger } from "../log.ts";
import { headerBlockOf } from "../nats/delivered.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { EventSchemas } from "../store/schemas.ts";
import { QueueGroups } from "../topology.ts";
import { NotificationContext } from "./context.ts";
import { NotificationCounts } from "./counts.ts";
import { notificationPlanOf, notificationSubjectsOf, routedEvent, type NotificationPlan } from "./routes.ts";

const NOTIFY_PREFIX = "notify";
/** Failed handlings logged per actor and second; the rest are counted and summed up in one line. */
const ERROR_LINES_PER_SECOND = 20;

export type NotificationSubscriberOptions = Readonly<{
  nc: NatsConnection;
  settings: ActorSettings;
  handler: HandlerFn;
  /** The rules (and actors) to route with; `update` swaps them for a newer revision. */
  config: Pick<JetbusConfig, "actors" | "routes">;
  /** Notifications held while every handler slot is busy (`notifications.max_pending`). */
  maxPending: number;
  /** Handlings at once (the actor's concurrency times its workers in this process). */
  concurrency: number;
  schemas: EventSchemas;
  logger: Logger;
  metrics: Metrics;
  ctx: Omit<ContextDeps, "signal">;
  /** Largest body accepted (store.max_msg_size). */
  maxBytes: number;
}>;

/** A core NATS message as the codec reads it. No stream position: a notification without an id gets `<stream>-<n>` from this process's count. */
class NotificationMessage implements WireMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headerBlock: string | undefined;

  constructor(
    private readonly msg: Msg,
    readonly stream: string,
    readonly seq: number,
  ) {
    this.subject = msg.subject;
    this.data = msg.data;
    this.headerBlock = headerBlockOf(msg);
  }

  get headers() {
    return this.msg.headers;
  }
}

/**
 * One actor's notifications in one process: core NATS subscriptions on `notify.<type pattern>` of
 * its rules, all in the actor's queue group (`jetbus-notify-<actor>`), so each notification reaches
 * one process of each routed actor. Each message is decoded, brought to its type's latest version
 * (upcasters), checked against its schema, and matched against the actor's rules here, in the
 * actor's process (filters and transforms included); the handler then runs once. Nothing is
 * acked, marked, retried or dead-lettered: a failed handling is logged and counted, and the
 * notification is gone. The socket is always read: notifications that find every handler slot
 * busy wait in memory up to `maxPending`, and later ones are dropped and counted, rather than
 * letting the server cut the connection as a slow consumer (which would also stop this process's
 * JetStream consumers).
 *
 * Per notification this costs what the codec and the rules cost, one ctx, the handler, and one
 * histogram observation; a handler that returns without a promise is finished in the same turn
 * (no promise, no deadline entry), one that returns a promise gets a deadline entry swept by one
 * timer. Counters are added up here and handed to prom-client once a second (counts.ts).
 */
export class NotificationSubscriber {
  private readonly subs = new Map<string, Subscription>();
  private readonly queue: Msg[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private plan: NotificationPlan;
  private readonly abort = new AbortController();
  private readonly ctxDeps: ContextDeps;
  private readonly counts: NotificationCounts;
  private readonly seconds = new Map<string, { observe(v: number): void }>();
  private readonly stream = `notify-${Math.random().toString(36).slice(2, 8)}`;
  private readonly timeoutMs: number;
  /** Handlings whose handler returned a promise that has not settled: their deadlines. */
  private readonly running = new Map<NotificationContext, Readonly<{ event: Event; rule: string; t0: number }>>();
  private sweeper?: NodeJS.Timeout;
  private received = 0;
  private stopping = false;
  private idle?: () => void;
  private logWindow = { start: 0, lines: 0, suppressed: 0 };

  constructor(private readonly o: NotificationSubscriberOptions) {
    this.timeoutMs = o.settings.timeout;
    this.plan = notificationPlanOf(o.settings.name, o.config);
    setMaxListeners(0, this.abort.signal);
    this.ctxDeps = { ...o.ctx, signal: this.abort.signal };
    this.counts = new NotificationCounts(o.metrics, o.settings.name);
  }

  get actor(): string {
    return this.o.settings.name;
  }

  /** The subjects listened on now. */
  get subjects(): string[] {
    return [...this.subs.keys()];
  }

  /** Handlings running plus notifications waiting for a slot. */
  get pending(): number {
    return this.inFlight + this.queue.length - this.queueHead;
  }

  /** Subscribes; the subscriptions are registered with the server when this resolves. */
  async start(): Promise<void> {
    // the metrics' registry (prom-client, ~80 modules) is built now, not by the first notification
    void this.o.metrics.handlerSeconds;
    this.resubscribe(notificationSubjectsOf(this.actor, this.o.config));
    this.counts.start();
    await this.o.nc.flush();
  }

  /** Routes with a newer config revision from the next notification on; subjects that changed are subscribed first, then the old ones dropped. */
  async update(config: Pick<JetbusConfig, "actors" | "routes">): Promise<void> {
    if (this.stopping) return;
    this.plan = notificationPlanOf(this.actor, config);
    this.resubscribe(notificationSubjectsOf(this.actor, config));
    await this.o.nc.flush();
  }

  private resubscribe(subjects: readonly string[]): void {
    const queue = QueueGroups.notifications(this.actor);
    for (const subject of subjects) {
      if (this.subs.has(subject)) continue;
      this.subs.set(subject, this.o.nc.subscribe(subject, { queue, callback: (err, msg) => this.receive(err, msg) }));
    }
    for (const [subject, sub] of this.subs) {
      if (subjects.includes(subject)) continue;
      sub.unsubscribe();
      this.subs.delete(subject);
    }
  }

  private receive(err: Error | null, msg: Msg): void {
    if (err) {
      this.o.logger.error({ actor: this.actor, err: err.message }, "notification subscription failed");
      return;
    }
    if (this.inFlight < this.o.concurrency) {
      this.inFlight++;
      this.handle(msg);
      return;
    }
    if (this.queue.length - this.queueHead >= this.o.maxPending) {
      this.counts.dropped("overflow");
      return;
    }
    this.queue.push(msg);
  }

  /** A handling is over (its slot is free): the next waiting notification takes it. */
  private next(): void {
    this.inFlight--;
    if (this.queueHead < this.queue.length) {
      const msg = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Msg;
      // compact now and then, not on every take: shifting an array is O(n)
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      } else if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      this.inFlight++;
      this.handle(msg);
      return;
    }
    if (this.inFlight === 0) this.idle?.();
  }

  /** Decodes, routes and runs one notification; calls next() exactly once, now or when its handler settles. */
  private handle(msg: Msg): void {
    let event: Event;
    try {
      const wire = new NotificationMessage(msg, this.stream, ++this.received);
      event = upcast(decodeEvent(wire, { subjectPrefix: NOTIFY_PREFIX, maxBytes: this.o.maxBytes }).event);
      this.o.schemas.checkEvent(event);
    } catch (err) {
      this.counts.dropped("invalid");
      this.logFailure(
        { actor: this.actor, subject: msg.subject, err: (err as Error)?.message ?? String(err) },
        "notification dropped: not a valid event",
      );
      return this.next();
    }
    const rule = this.plan(event);
    // a subject a rule listens on, but not a notification its rules select (a data filter, first-match)
    if (!rule) return this.next();
    const routed = routedEvent(rule, event);
    const ctx = new NotificationContext(routed, this.ctxDeps);
    const t0 = performance.now();
    let result: unknown;
    try {
      result = this.o.handler(routed, ctx);
    } catch (err) {
      this.done(ctx, routed, rule.name, t0, err);
      return;
    }
    if (typeof (result as Promise<void> | undefined)?.then !== "function") {
      this.done(ctx, routed, rule.name, t0);
      return;
    }
    if (this.timeoutMs > 0) {
      ctx.at = Date.now() + this.timeoutMs;
      this.running.set(ctx, { event: routed, rule: rule.name, t0 });
      this.armSweeper();
    }
    (result as Promise<void>).then(
      () => this.done(ctx, routed, rule.name, t0),
      (err: unknown) => this.done(ctx, routed, rule.name, t0, err ?? new Error("handler rejected")),
    );
  }

  /** The first outcome of a handling counts (its handler settling, or its deadline); the slot is freed once. */
  private done(ctx: NotificationContext, event: Event, rule: string, t0: number, err?: unknown): void {
    if (ctx.at < 0) return; // expired before: counted and freed then
    if (ctx.at > 0) this.running.delete(ctx);
    ctx.at = -1;
    ctx.settled();
    this.secondsOf(event.type).observe((performance.now() - t0) / 1000);
    if (err === undefined) this.counts.handled(event.type, rule);
    else {
      const code = errorCodeOf(err);
      this.counts.failed(event.type, rule, code);
      this.logFailure(
        { actor: this.actor, eventId: event.id, eventType: event.type, correlationId: event.correlationid, code, err },
        "notification handling failed; not retried (notifications are fire-and-forget)",
      );
    }
    this.next();
  }

  private secondsOf(type: string): { observe(v: number): void } {
    let s = this.seconds.get(type);
    if (!s) {
      s = this.o.metrics.handlerSeconds.labels(this.actor, type);
      if (this.seconds.size < 10_000) this.seconds.set(type, s);
    }
    return s;
  }

  /** One timer while any handling with a promise runs: fails the late ones (TimeoutError, their signal aborted) and frees their slots. */
  private armSweeper(): void {
    if (this.sweeper || this.running.size === 0) return;
    const period = Math.min(1000, Math.max(10, Math.floor(this.timeoutMs / 10)));
    this.sweeper = setTimeout(() => {
      this.sweeper = undefined;
      const now = Date.now();
      for (const [ctx, h] of [...this.running]) {
        if (ctx.at > now) continue;
        const err = new TimeoutError(`handler ran longer than its timeout of ${this.timeoutMs} ms`);
        ctx.expire(err);
        this.done(ctx, h.event, h.rule, h.t0, err);
      }
      this.armSweeper();
    }, period);
  }

  /** One error line per failure, up to ERROR_LINES_PER_SECOND a second; past that one line says how many were not logged. */
  private logFailure(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const w = this.logWindow;
    if (now - w.start >= 1000) {
      if (w.suppressed > 0)
        this.o.logger.error(
          { actor: this.actor, notLogged: w.suppressed },
          "more notifications failed or were dropped in the last second than are logged",
        );
      this.logWindow = { start: now, lines: 0, suppressed: 0 };
    }
    if (this.logWindow.lines++ < ERROR_LINES_PER_SECOND) this.o.logger.error(fields, message);
    else this.logWindow.suppressed++;
  }

  /**
   * Unsubscribes, then lets what was received (running and waiting) finish within `graceMs`; past
   * it ctx.signal aborts. Returns how many were still unfinished (lost: nothing redelivers a notification).
   */
  async stop(graceMs: number, cutShort?: Promise<unknown>): Promise<number> {
    this.stopping = true;
    for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
    if (this.pending > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => (this.idle = r)),
        new Promise<void>((r) => (timer = setTimeout(r, graceMs))),
        ...(cutShort ? [cutShort] : []),
      ]);
      clearTimeout(timer);
    }
    const unfinished = this.pending;
    if (unfinished > 0) {
      this.queue.length = 0;
      this.queueHead = 0;
      this.abort.abort(new Error("stopping: the shutdown grace period is over"));
      this.o.logger.warn(
        { actor: this.actor, unfinished },
        "stopped with notifications unfinished (lost: notifications are not redelivered)",
      );
    }
    clearTimeout(this.sweeper);
    this.counts.stop();
    return unfinished;
  }
}
