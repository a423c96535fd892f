export { Metrics } from "./metrics.ts";
export { Health, readinessGate, type ReadinessCheck, type ReadinessGate } from "./health.ts";
export { serveObservability, urlOf, type ObservabilityServer, type ExtraHandler } from "./http.ts";
export { childTraceparent, newTraceparent, startEventSpan, type SpanHandle } from "./tracing.ts";
