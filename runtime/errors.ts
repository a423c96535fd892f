import { didYouMean } from "./suggest.ts";

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
  PortInUse: "PORT_IN_USE",
  HandlerInvalid: "HANDLER_INVALID",
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

function listProblems(header: string, problems: readonly Problem[]): string {
  return [header, ...problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`)].join("\n");
}

export class ConfigError extends JetbusError {
  override name = "ConfigError";
  constructor(
    readonly source: string,
    readonly problems: readonly Problem[],
  ) {
    super(
      ErrorCode.ConfigInvalid,
      listProblems(`invalid config ${source} (${problems.length} problem${problems.length === 1 ? "" : "s"}):`, problems),
    );
  }
}

export class ConfigUnreadableError extends JetbusError {
  override name = "ConfigUnreadableError";
  constructor(
    readonly source: string,
    message: string,
    cause?: unknown,
  ) {
    super(ErrorCode.ConfigUnreadable, `cannot read config ${source}: ${message}`, { cause });
  }
}

export class InvalidEventError extends JetbusError {
  override name = "InvalidEventError";
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.EventInvalid, message, { cause });
  }
}

export class EventTooLargeError extends JetbusError {
  override name = "EventTooLargeError";
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(ErrorCode.EventTooLarge, `event body is ${size} bytes, over the limit of ${limit} bytes`);
  }
}

export class SchemaViolationError extends JetbusError {
  override name = "SchemaViolationError";
  constructor(
    readonly eventType: string,
    readonly problems: readonly Problem[],
    schemaFile = `schemas/events/${eventType}.json`,
  ) {
    super(
      ErrorCode.SchemaViolation,
      listProblems(`${schemaFile.startsWith("schemas/state/") ? eventType : "data"} does not match ${schemaFile}:`, problems),
    );
  }
}

export class NotFoundError extends JetbusError {
  override name = "NotFoundError";
  /** `hint`: where to look instead (the command that lists what exists). */
  constructor(message: string, hint?: string) {
    super(ErrorCode.NotFound, message, { hint });
  }
}

export class NatsServerMissingError extends JetbusError {
  override name = "NatsServerMissingError";
  constructor(message: string) {
    super(ErrorCode.NatsServerMissing, message);
  }
}

export class NatsServerFailedError extends JetbusError {
  override name = "NatsServerFailedError";
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.NatsServerFailed, message, { cause });
  }
}

/** Connected to a nats-server older than the floor jetbus needs (runtime/nats/version.ts). */
export class NatsServerTooOldError extends JetbusError {
  override name = "NatsServerTooOldError";
  constructor(
    readonly server: string,
    readonly found: string,
    readonly floor: string,
  ) {
    super(ErrorCode.NatsServerTooOld, `${server} runs nats-server ${found}; jetbus needs ${floor} or later`);
  }
}

export class StoreConflictError extends JetbusError {
  override name = "StoreConflictError";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(ErrorCode.StoreConflict, `${setting}: ${message}`);
  }
}

/** A one-shot command found no store to use: only `jetbus store apply`, `up` or `router` create it. */
export class StoreMissingError extends JetbusError {
  override name = "StoreMissingError";
  constructor(readonly stream: string) {
    super(ErrorCode.StoreMissing, `stream ${stream} does not exist on this server`);
  }
}

/** `jetbus store apply` refused a change that would delete stored data because --allow-data-loss was not given. */
export class DataLossError extends JetbusError {
  override name = "DataLossError";
  constructor(readonly losses: readonly { stream: string; setting: string; loss: string }[]) {
    super(
      ErrorCode.DataLoss,
      [
        `refused: ${losses.length === 1 ? "this change deletes" : "these changes delete"} stored data (nothing was changed):`,
        ...losses.map((l) => `  ${l.stream} ${l.setting}: ${l.loss}`),
      ].join("\n"),
    );
  }
}

/** The server refused an operation to this user: a permissions problem, not a config conflict. */
export class PermissionDeniedError extends JetbusError {
  override name = "PermissionDeniedError";
  constructor(
    readonly operation: string,
    readonly subject: string,
    cause?: unknown,
  ) {
    super(ErrorCode.PermissionDenied, `permission denied: ${operation} (the server refused this user a publish to "${subject}")`, {
      cause,
    });
  }
}

export class PublishError extends JetbusError {
  override name = "PublishError";
  constructor(message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(ErrorCode.PublishFailed, message, opts);
  }
}

export class TimeoutError extends JetbusError {
  override name = "TimeoutError";
  constructor(message: string) {
    super(ErrorCode.Timeout, message, { retryable: true });
  }
}

/** Thrown by a handler to skip the remaining retry attempts and dead-letter the event at once. */
export class TerminalError extends JetbusError {
  override name = "TerminalError";
  constructor(message: string, opts: { cause?: unknown; code?: string } = {}) {
    super(ErrorCode.Terminal, message, { cause: opts.cause });
    this.reason = opts.code;
  }
  readonly reason?: string;
}

export class UsageError extends JetbusError {
  override name = "UsageError";
  constructor(message: string) {
    super(ErrorCode.Usage, message);
  }
}

/** A duration or point in time that does not parse: names where it came from, the value, and the forms accepted (bad input: exit 2). */
export class InvalidTimeError extends UsageError {
  override name = "InvalidTimeError";
  constructor(
    readonly what: string,
    readonly value: string,
    readonly accepted: string,
  ) {
    super(`${what}: ${JSON.stringify(value)} is not valid; use ${accepted}`);
  }
}

/** A command named an actor the config does not define (bad input: exit 2). */
export class UnknownActorError extends JetbusError {
  override name = "UnknownActorError";
  constructor(
    readonly actor: string,
    readonly known: readonly string[],
  ) {
    super(
      ErrorCode.Usage,
      `unknown actor "${actor}"${didYouMean(actor, known)}: ${known.length ? `the config defines ${known.join(", ")}` : "the config defines no actors (pass --config)"}`,
    );
  }
}

/** `--strict` start-up check: streams or buckets that would not survive a node loss, or a store that differs from its config. */
export class DurabilityError extends JetbusError {
  override name = "DurabilityError";
  constructor(readonly findings: readonly { subject: string; problem: string }[]) {
    super(
      ErrorCode.Durability,
      [
        `durability check failed (${findings.length} finding${findings.length === 1 ? "" : "s"}):`,
        ...findings.map((f) => `  ${f.subject}: ${f.problem}`),
      ].join("\n"),
    );
  }
}

/** Work refused because this process is no longer (or cannot prove it is still) the pinned client of a durable. */
export class PinLostError extends JetbusError {
  override name = "PinLostError";
  constructor(
    readonly durable: string,
    reason: string,
  ) {
    super(ErrorCode.PinLost, `no longer pinned to ${durable}: ${reason}`, { retryable: true });
  }
}

/** Work that needs a part of the runtime still being set up; offered again shortly. */
export class NotReadyError extends JetbusError {
  override name = "NotReadyError";
  constructor(message: string) {
    super(ErrorCode.NotReady, message, { retryable: true });
  }
}

/** No server of the list answered a first connection in time (one-shot commands; workers keep trying). */
export class NatsUnreachableError extends JetbusError {
  override name = "NatsUnreachableError";
  constructor(
    readonly servers: readonly string[],
    readonly reason: string,
    readonly attempts: number,
    cause?: unknown,
  ) {
    super(
      ErrorCode.NatsUnreachable,
      `no NATS server answered at ${servers.join(", ")} (${attempts} attempt${attempts === 1 ? "" : "s"}): ${reason}`,
      { cause, retryable: true },
    );
  }
}

/** An actor's handler cannot be loaded or built: missing module, no handler export, a constructor parameter without @inject. */
export class HandlerInvalidError extends JetbusError {
  override name = "HandlerInvalidError";
  constructor(
    readonly actor: string,
    message: string,
    cause?: unknown,
  ) {
    super(ErrorCode.HandlerInvalid, `actor "${actor}": ${message}`, { cause });
  }
}

/** A stateful handling kept losing its commit to concurrent changes of the same key; retried later. */
export class StateConflictError extends JetbusError {
  override name = "StateConflictError";
  constructor(
    readonly actor: string,
    readonly key: string,
    attempts: number,
  ) {
    super(ErrorCode.StateConflict, `actor ${actor}: the state of key ${JSON.stringify(key)} changed under ${attempts} handlings in a row`, {
      retryable: true,
    });
  }
}

/** The metrics/health port is taken (another jetbus process on the same fixed port): a setting to change, exit 2. */
export class PortInUseError extends JetbusError {
  override name = "PortInUseError";
  constructor(
    readonly host: string,
    readonly port: number,
    cause?: unknown,
  ) {
    super(
      ErrorCode.PortInUse,
      `cannot serve /metrics, /healthz and /readyz on ${host}:${port}: the port is in use (another jetbus process on the same observability.http_port?)`,
      {
        cause,
        hint: "set observability.http_port (or JETBUS_HTTP_PORT) to a free port, 0 picks one; or pass --no-http",
      },
    );
  }
}
