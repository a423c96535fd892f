/**
 * What a handler class can inject from the process it runs in (`@inject(Tokens.Logger)`): the
 * config, the NATS connection, the logger, the metrics and the health checks. Registered in each
 * runtime's own child container (app/bootstrap.ts), so two runtimes in one process never share them.
 */
export const Tokens = {
  /** The JetbusConfig, every default filled in. */
  Config: Symbol.for("jetbus.Config"),
  /** The NatsConnection of the runtime. */
  Nats: Symbol.for("jetbus.NatsConnection"),
  /** The runtime's logger (pino). */
  Logger: Symbol.for("jetbus.Logger"),
  /** The runtime's Prometheus metrics. */
  Metrics: Symbol.for("jetbus.Metrics"),
  /** The runtime's health checks (/healthz, /readyz). */
  Health: Symbol.for("jetbus.Health"),
} as const;
