import type { HistogramSeries } from "../../observability/local-histogram.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { errorCodeOf } from "../retry.ts";
import type { Delivered, Policy, Settled } from "./types.ts";

/** Counts of one (type, rule) pair not yet added to the counters. */
class Pending {
  handled = 0;
  /** Other settled outcomes (duplicate, not_admitted, dead_lettered, dropped) and failed attempts by code. */
  readonly outcomes = new Map<string, number>();
  readonly errors = new Map<string, number>();

  constructor(
    readonly type: string,
    readonly rule: string,
    readonly seconds: HistogramSeries,
  ) {}

  /** Adds the counts to the counters and starts again from zero. */
  flushTo(m: Metrics, actor: string): void {
    if (this.handled > 0) {
      m.handlings.labels(actor, this.type, this.rule, "handled").inc(this.handled);
      m.attempts.labels(actor, this.type, this.rule, "ok", "").inc(this.handled);
      this.handled = 0;
    }
    for (const [outcome, n] of this.outcomes) m.handlings.labels(actor, this.type, this.rule, outcome).inc(n);
    for (const [code, n] of this.errors) m.attempts.labels(actor, this.type, this.rule, "error", code).inc(n);
    this.outcomes.clear();
    this.errors.clear();
  }
}

/** Series kept per pair: bounded (types and rules come from config and routed events), but capped anyway. */
const MAX_SERIES = 10_000;

/**
 * Metrics: every handler run (`jetbus_handling_attempts_total`, outcome ok/error and the error
 * code), how long it took (`jetbus_handler_duration_seconds`), and how each event ended
 * (`jetbus_handlings_total`: handled, dead_lettered, dropped, duplicate, not_admitted), labelled
 * with the actor, event type and routing rule. Per event this is a few additions to plain numbers
 * of its (type, rule) pair; they reach the prom-client counters when those are read (Metrics.addFlush).
 */
export function handlingMetrics(m: Metrics, actor: string): Policy<Delivered, Delivered, Settled, Settled> {
  const byType = new Map<string, Map<string, Pending>>();
  let size = 0;
  m.addFlush(() => {
    for (const rules of byType.values()) for (const p of rules.values()) p.flushTo(m, actor);
  });
  const pendingOf = (type: string, rule: string): Pending => {
    let rules = byType.get(type);
    if (!rules) byType.set(type, (rules = new Map()));
    let p = rules.get(rule);
    if (!p) {
      p = new Pending(type, rule, m.handlerSeconds.labels(actor, type));
      if (size < MAX_SERIES) {
        rules.set(rule, p);
        size++;
      } else {
        // past the cap: counted once this event is recorded, rather than kept
        const once = p;
        queueMicrotask(() => once.flushTo(m, actor));
      }
    }
    return p;
  };
  const record = (h: Delivered, out: Settled): Settled => {
    if (out.kind === "leave") return out;
    const p = pendingOf(h.event?.type ?? "", h.copy.rule ?? "");
    if (h.handlerMs !== undefined) p.seconds.observe(h.handlerMs / 1000);
    if (out.kind === "ack" && out.result === "handled") {
      p.handled++;
      return out;
    }
    if (out.kind === "ack" || out.kind === "term") p.outcomes.set(out.result, (p.outcomes.get(out.result) ?? 0) + 1);
    if ("ran" in out && out.ran && out.error !== undefined) {
      const code = errorCodeOf(out.error);
      p.errors.set(code, (p.errors.get(code) ?? 0) + 1);
    }
    return out;
  };
  return (next) => (h) => next(h).then((out) => record(h, out));
}
