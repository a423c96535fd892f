import type { Metrics } from "../observability/metrics.ts";

/** How long counts wait before they are added to the Prometheus counters. */
const FLUSH_EVERY_MS = 1000;

/** The counts of one (type, rule) pair since the last flush; error codes apart. */
type Pair = { type: string; rule: string; handled: number; failed: number; codes: Map<string, number> };

/**
 * The counters of one actor's notifications, added up here and handed to prom-client once a
 * second (and on stop): a labelled prom-client counter hashes its labels on every inc (2.3 us on
 * the bench machine under load, two per notification), which on a fan-out of small signals was a
 * sixth of a handler process's CPU. A scrape sees counts at most a second old. Same series as an
 * actor's stored events: `jetbus_handlings_total` (handled; dropped for a failed handling, which is
 * not retried), `jetbus_handling_attempts_total` (ok, error with its code), and
 * `jetbus_notifications_dropped_total` (overflow, invalid).
 */
export class NotificationCounts {
  private readonly pairs = new Map<string, Pair>();
  /** The pair of the last notification: a stream of one type finds its counts without a lookup. */
  private last?: Pair;
  private readonly drops = { overflow: 0, invalid: 0 };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly metrics: Metrics,
    private readonly actor: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  handled(type: string, rule: string): void {
    this.pair(type, rule).handled++;
  }

  failed(type: string, rule: string, code: string): void {
    const p = this.pair(type, rule);
    p.failed++;
    p.codes.set(code, (p.codes.get(code) ?? 0) + 1);
  }

  dropped(reason: "overflow" | "invalid"): void {
    this.drops[reason]++;
  }

  private pair(type: string, rule: string): Pair {
    const last = this.last;
    if (last && last.type === type && last.rule === rule) return last;
    const key = `${type}\u0000${rule}`;
    let p = this.pairs.get(key);
    if (!p) {
      // types and rules come from config and routed events: bounded, but cap it anyway
      if (this.pairs.size >= 10_000) this.flushAndForget();
      p = { type, rule, handled: 0, failed: 0, codes: new Map() };
      this.pairs.set(key, p);
    }
    this.last = p;
    return p;
  }

  flush(): void {
    const m = this.metrics;
    for (const p of this.pairs.values()) {
      if (p.handled > 0) {
        m.attempts.labels(this.actor, p.type, p.rule, "ok", "").inc(p.handled);
        m.handlings.labels(this.actor, p.type, p.rule, "handled").inc(p.handled);
        p.handled = 0;
      }
      if (p.failed > 0) {
        for (const [code, n] of p.codes) m.attempts.labels(this.actor, p.type, p.rule, "error", code).inc(n);
        m.handlings.labels(this.actor, p.type, p.rule, "dropped").inc(p.failed);
        p.failed = 0;
        p.codes.clear();
      }
    }
    for (const reason of ["overflow", "invalid"] as const)
      if (this.drops[reason] > 0) {
        m.notificationsDropped.labels(this.actor, reason).inc(this.drops[reason]);
        this.drops[reason] = 0;
      }
  }

  private flushAndForget(): void {
    this.flush();
    this.pairs.clear();
    this.last = undefined;
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
