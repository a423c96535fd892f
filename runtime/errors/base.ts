/**
 * Every error jetbus raises on purpose. Flat classes, each with a stable `code`,
 * an optional `cause`, and `retryable` where a caller may sensibly try again. Each code's comment is
 * its meaning in docs/reference/cli.md (bin/gen-docs.ts reads them).
 */
export const ErrorCode = {
  /** The config breaks its JSON Schema or a semantic rule (an unknown rule target, a bad pattern, a duplicate name); every problem is listed with its JSON path. */
  ConfigInvalid: "CONFIG_INVALID",
  /** The config file cannot be read (missing, no permission); a JSON syntax error is a CONFIG_INVALID problem at its line and column. */
  ConfigUnreadable: "CONFIG_UNREADABLE",
  /** An event that cannot be decoded or encoded: a body that is not JSON, a malformed header, a time that is not RFC 3339, an unusable id. */
  EventInvalid: "EVENT_INVALID",
  /** An event body over `store.max_msg_size`. */
  EventTooLarge: "EVENT_TOO_LARGE",
  /** Event data (or a stateful actor's state) does not match its JSON Schema; every problem is listed with its path. */
  SchemaViolation: "SCHEMA_VIOLATION",
  /** No event, dead letter, config revision, state key or sequence by that id or name. */
  NotFound: "NOT_FOUND",
  /** No usable nats-server binary was found, and none could be installed. */
  NatsServerMissing: "NATS_SERVER_MISSING",
  /** The nats-server that jetbus started did not come up, or stopped. */
  NatsServerFailed: "NATS_SERVER_FAILED",
  /** Connected to a nats-server older than the floor jetbus needs (2.12). */
  NatsServerTooOld: "NATS_SERVER_TOO_OLD",
  /** A store setting the server cannot have or refuses: another retention on an existing stream, more replicas than a single server keeps, a change the server rejects; named by its setting. */
  StoreConflict: "STORE_CONFLICT",
  /** The event store stream does not exist; only `jetbus store apply`, `up` and `router` create it. */
  StoreMissing: "STORE_MISSING",
  /** `jetbus store apply` refused a change that deletes stored data (accept it with `--allow-data-loss`). */
  DataLoss: "DATA_LOSS",
  /** The server refused this user an operation (a subject it may not publish to or read). */
  PermissionDenied: "PERMISSION_DENIED",
  /** A publish (or a direct get) the server refused or that was never answered. */
  PublishFailed: "PUBLISH_FAILED",
  /** A NATS request, or a handler past its `timeout`, did not finish in time (retryable). */
  Timeout: "TIMEOUT",
  /** Thrown by a handler (`TerminalError`): dead-letter the event now, without the remaining retries. */
  Terminal: "TERMINAL",
  /** Bad command-line input: a malformed argument, an unknown actor, a time or duration that does not parse. */
  Usage: "USAGE",
  /** The `--strict` start-up check found an R1 stream or bucket on a cluster, or a store that differs from the config. */
  Durability: "DURABILITY",
  /** The ordered router lane is no longer (or cannot prove it is still) the pinned client of its durable; retried. */
  PinLost: "PIN_LOST",
  /** Work that needs a part of the runtime still being set up; offered again shortly (retryable). */
  NotReady: "NOT_READY",
  /** A stateful handling kept losing its commit to concurrent changes of the same key; retried later. */
  StateConflict: "STATE_CONFLICT",
  /** No server of the list answered a first connection in time. */
  NatsUnreachable: "NATS_UNREACHABLE",
  /** A server address (in `--servers`, `NATS_URL` or `nats.servers`) that is no URL the client can connect to. */
  NatsUrlInvalid: "NATS_URL_INVALID",
  /** The metrics and health port (`observability.http_port`) is taken by another process. */
  PortInUse: "PORT_IN_USE",
  /** An actor's handler cannot be loaded or built: a missing module, no handler export, a constructor parameter without `@inject`. */
  HandlerInvalid: "HANDLER_INVALID",
  /** An actor's inbox durables could not be switched to the layout its settings need (the user may not change them, or a foreign consumer overlaps them). */
  InboxLayout: "INBOX_LAYOUT",
  /** A service (`up`, `router`, `actor`) kept failing to start for a normally brief reason (JetStream API timeouts while a cluster elects leaders) and gave up. */
  StartupTimeout: "STARTUP_TIMEOUT",
  /** Router or actor processes that `jetbus cluster up` started died or never became ready; the message names each. */
  ProcessFailed: "PROCESS_FAILED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One problem found in a document: where (a JSON path such as `actors[1].retry`) and what. */
export type Problem = Readonly<{ path: string; message: string }>;

export class JetbusError extends Error {
  override name = "JetbusError";
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** What to do about it, for the CLI's `hint:` line; defaults to one per code (cli/exit.ts). */
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; retryable?: boolean; hint?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? false;
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}
