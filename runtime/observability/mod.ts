export { Metrics } from "./metrics.ts";
export { Health, type ReadinessCheck } from "./health.ts";
export { serveObservability, type ObservabilityServer } from "./http.ts";
