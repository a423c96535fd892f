/**
 * A duration in milliseconds. The config file may write "500ms" / "30s" / "5m" / "24h" / "7d" /
 * "1w"; validation converts every duration to milliseconds once (runtime/config/duration.ts).
 */
export type Millis = number;

/** What a config file may hold, generated from the schemas (durations as written, defaults not yet filled in). */
export type { ActorInput, ConfigInput as JetbusConfigInput } from "./schema-types.ts";

/**
 * The config's `nats` section. Checked against schemas/config.schema.json by
 * test/unit/config-types.unit.test.ts, like every type here: tsc fails when they differ.
 */
export type NatsSettings = {
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Path of a file holding an NKey seed (SU...). */
  nkey_seed_file?: string;
  /** Path of a decentralised-auth `.creds` file. */
  creds_file?: string;
  tls?: { ca?: string; cert?: string; key?: string };
  embedded: { store_dir: string; port: number };
};

export type StoreSettings = {
  stream: string;
  max_age: Millis;
  max_bytes: number;
  max_msgs: number;
  max_msg_size: number;
  replicas: 1 | 3 | 5;
  duplicate_window: Millis;
  storage: "file" | "memory";
};

export type ActorSettings = {
  name: string;
  handler?: string;
  /** A file exporting the handler (defineActor or a class), relative to the config file. */
  module?: string;
  concurrency: number;
  replicas: number;
  max_ack_pending: number;
  ack_wait: Millis;
  timeout: Millis;
  retry: { max_attempts: number; backoff: Millis[] };
  dead_letter: { enabled: boolean };
  idempotency: { enabled: boolean; ttl: Millis };
  ordered?: { key: string; partitions: number };
  /** copy (default): inbox copies from the router; direct: its own durable on the event store (see runtime/config/direct.ts, runtime/actor/direct.ts). */
  delivery: "copy" | "direct";
  options: Record<string, unknown>;
};

export type DataFilter =
  | { eq: Record<string, unknown> }
  | { ne: Record<string, unknown> }
  | { in: Record<string, unknown[]> }
  | { exists: string[] }
  | { gt: Record<string, number> }
  | { gte: Record<string, number> }
  | { lt: Record<string, number> }
  | { lte: Record<string, number> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { regex: Record<string, string> }
  | { all: DataFilter[] }
  | { any: DataFilter[] }
  | { not: DataFilter };

export type Transform = {
  pick?: string[];
  drop?: string[];
  rename?: Record<string, string>;
  set?: Record<string, unknown>;
};

export type RouteRule = {
  name?: string;
  match: { type?: string; source?: string; data?: DataFilter };
  to: string[];
  transform?: Transform;
};

export type RouteSettings = {
  mode: "all-matches" | "first-match";
  rules: RouteRule[];
};

/** Event types sent as notifications: core NATS on `notify.<type>`, never stored (runtime/notify). */
export type NotificationSettings = {
  /** Exact types or whole-token wildcards (`Metrics.*`, `Metrics.>`). */
  types: string[];
  /** Notifications one process holds per actor while its handler slots are busy; past it they are dropped and counted. */
  max_pending: number;
};

/** A read model built from the store (runtime/projection); its events, key and evolve come from `module`. */
export type ProjectionSettings = {
  name: string;
  /** A file exporting defineProjection(...), relative to the config file. */
  module: string;
};

/** One event-sourced aggregate: its name and the module whose default export defines it (runtime/aggregate). */
export type AggregateSettings = {
  name: string;
  /** Relative to the config file. */
  module: string;
};

export type ObservabilitySettings = {
  http_port: number;
  http_host: string;
  log_level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  console: ConsoleSettings;
};

export type ConsoleSettings = { enabled: boolean; public: boolean; token?: string };

/** The whole config after validation, with every default filled in. */
export type JetbusConfig = {
  /** The schema a file names for editor support; ignored by jetbus. */
  $schema?: string;
  nats: NatsSettings;
  store: StoreSettings;
  actors: ActorSettings[];
  routes: RouteSettings;
  notifications: NotificationSettings;
  projections: ProjectionSettings[];
  aggregates: AggregateSettings[];
  /** A module exporting defineUpcasters(...), relative to the config file (events/versions). */
  upcasters?: string;
  observability: ObservabilitySettings;
};
