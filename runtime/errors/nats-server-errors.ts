// The nats-server itself: not installed, failed to start, too old, unreachable, or refusing this user;
// and the jetbus processes a local cluster starts beside it.
import { ErrorCode, JetbusError } from "./base.ts";

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

/** Router or actor processes `jetbus cluster up` started that died or never became ready; `failed` names each. */
export class ProcessFailedError extends JetbusError {
  override name = "ProcessFailedError";
  constructor(
    readonly failed: readonly string[],
    message: string,
    hint?: string,
  ) {
    super(ErrorCode.ProcessFailed, message, { hint });
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
