/** tsyringe tokens an actor handler can inject besides the runtime's (Tokens.Logger, Tokens.Metrics, ...). */
export const ActorTokens = {
  /** The actor's ActorSettings (name, retry, options, ...). */
  Settings: Symbol.for("jetbus.ActorSettings"),
  /** The actor's `options` object from config. */
  Options: Symbol.for("jetbus.ActorOptions"),
} as const;
