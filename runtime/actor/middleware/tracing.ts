import { endWith, SpanKind, startEventSpan, tracingActive } from "../../observability/tracing.ts";
import type { Decoded, Policy } from "./types.ts";

/**
 * Tracing: when an OpenTelemetry SDK is registered, each handler run is a span `handle <type>`
 * whose parent is the inbox copy's traceparent (the router's route span), active while the
 * handler runs; events the handler publishes carry it as their parent. A failure ends the span
 * with the error. Without an SDK this costs one check per delivery: no span object, no promise.
 */
export function tracing<H extends Decoded>(actor: string): Policy<H> {
  return (next) => (h) => {
    if (!tracingActive()) return next(h);
    const e = h.event;
    const span = startEventSpan(`handle ${e.type}`, {
      kind: SpanKind.Consumer,
      traceparent: e.traceparent,
      actor,
      "event.id": e.id,
      "event.type": e.type,
      attempt: h.attempt,
    });
    if (!span.traceparent) return next(h);
    h.retrace(span.traceparent);
    return endWith(
      span,
      span.run(() => next(h)),
    );
  };
}
