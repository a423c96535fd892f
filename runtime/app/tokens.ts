/** tsyringe tokens: one container per process, a child container per test. */
export const Tokens = {
  Config: Symbol.for("jetbus.Config"),
  Nats: Symbol.for("jetbus.NatsConnection"),
  Logger: Symbol.for("jetbus.Logger"),
  Metrics: Symbol.for("jetbus.Metrics"),
  Health: Symbol.for("jetbus.Health"),
} as const;
