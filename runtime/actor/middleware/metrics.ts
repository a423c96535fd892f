import { headerOf } from "../../events/headers.ts";
import type { Metrics } from "../../observability/metrics.ts";
import { JetbusHeaders } from "../../topology.ts";
import { errorCodeOf } from "../retry.ts";
import { wireOf } from "./decode.ts";
import type { Handling, Outcome, Policy } from "./types.ts";

type Series = Readonly<{ ok: { inc(): void }; handled: { inc(): void }; seconds: { observe(v: number): void } }>;

/** Series of one (type, rule) pair; looked up once per pair, not once per event. */
class SeriesCache {
  private readonly byKey = new Map<string, Series>();
  constructor(
    private readonly m: Metrics,
    private readonly actor: string,
  ) {}

  get(type: string, rule: string): Series {
    const key = `${type}\u0000${rule}`;
    let s = this.byKey.get(key);
    if (!s) {
      s = {
        ok: this.m.attempts.labels(this.actor, type, rule, "ok", ""),
        handled: this.m.handlings.labels(this.actor, type, rule, "handled"),
        seconds: this.m.handlerSeconds.labels(this.actor, type),
      };
      // types and rules come from config and routed events: bounded, but cap the cache anyway
      if (this.byKey.size < 10_000) this.byKey.set(key, s);
    }
    return s;
  }
}

/**
 * Metrics: every handler run (`jetbus_handling_attempts_total`, outcome ok/error and the error
 * code), how long it took, and how each event ended (`jetbus_handlings_total`: handled,
 * dead_lettered, dropped, duplicate), labelled with the actor, event type and routing rule.
 */
export function handlingMetrics(m: Metrics, actor: string): Policy {
  const cache = new SeriesCache(m, actor);
  return (next) => async (h) => {
    const out = await next(h);
    record(m, cache, actor, h, out);
    return out;
  };
}

function record(m: Metrics, cache: SeriesCache, actor: string, h: Handling, out: Outcome): void {
  if (out.kind === "leave") return;
  const type = h.event?.type ?? "";
  const rule = headerOf(wireOf(h), JetbusHeaders.Rule) ?? "";
  const series = cache.get(type, rule);
  if (h.handlerMs !== undefined) series.seconds.observe(h.handlerMs / 1000);
  if (out.kind === "ack") {
    if (out.result === "handled") {
      series.ok.inc();
      series.handled.inc();
    } else m.handlings.labels(actor, type, rule, out.result).inc();
    return;
  }
  if ("ran" in out && out.ran && out.error !== undefined) m.attempts.labels(actor, type, rule, "error", errorCodeOf(out.error)).inc();
  if (out.kind === "term") m.handlings.labels(actor, type, rule, out.result).inc();
}
