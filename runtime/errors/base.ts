/**
 * Every error jetbus raises on purpose. Flat classes, each with a stable `code`,
 * an optional `cause`, and `retryable` where a caller may sensibly try again.
 */
export const ErrorCode = {
  ConfigInvalid: "CONFIG_INVALID",
  ConfigUnreadable: "CONFIG_UNREADABLE",
  EventInvalid: "EVENT_INVALID",
  EventTooLarge: "EVENT_TOO_LARGE",
  SchemaViolation: "SCHEMA_VIOLATION",
  NotFound: "NOT_FOUND",
  NatsServerMissing: "NATS_SERVER_MISSING",
  NatsServerFailed: "NATS_SERVER_FAILED",
  NatsServerTooOld: "NATS_SERVER_TOO_OLD",
  StoreConflict: "STORE_CONFLICT",
  StoreMissing: "STORE_MISSING",
  DataLoss: "DATA_LOSS",
  PermissionDenied: "PERMISSION_DENIED",
  PublishFailed: "PUBLISH_FAILED",
  Timeout: "TIMEOUT",
  Terminal: "TERMINAL",
  Usage: "USAGE",
  Durability: "DURABILITY",
  PinLost: "PIN_LOST",
  NotReady: "NOT_READY",
  StateConflict: "STATE_CONFLICT",
  NatsUnreachable: "NATS_UNREACHABLE",
  NatsUrlInvalid: "NATS_URL_INVALID",
  PortInUse: "PORT_IN_USE",
  HandlerInvalid: "HANDLER_INVALID",
  InboxLayout: "INBOX_LAYOUT",
  StartupTimeout: "STARTUP_TIMEOUT",
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
