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
    /** How long it tried, in ms. */
    readonly elapsedMs: number,
    cause?: unknown,
  ) {
    super(
      ErrorCode.NatsUnreachable,
      `no NATS server answered at ${servers.join(", ")} (${attempts} attempt${attempts === 1 ? "" : "s"} in ${(elapsedMs / 1000).toFixed(1)} s): ${reason}`,
      { cause, retryable: true },
    );
  }
}

/**
 * A service (`up`, `router`, `actor`) kept failing to start for a reason that is normally brief
 * (JetStream API requests timing out while a cluster elects leaders, a node paused or restarting)
 * and gave up. It retried the whole time, logging each attempt.
 */
export class StartupTimeoutError extends JetbusError {
  override name = "StartupTimeoutError";
  constructor(
    readonly service: string,
    readonly waitedMs: number,
    readonly attempts: number,
    reason: string,
    cause?: unknown,
  ) {
    super(
      ErrorCode.StartupTimeout,
      `${service} did not start within ${Math.round(waitedMs / 1000)} s (${attempts} attempt${attempts === 1 ? "" : "s"}): ${reason}`,
      {
        cause,
        hint: "the JetStream API did not answer in time: a cluster without a meta leader (nodes down, paused or partitioned) or an overloaded server; `jetbus status` shows the nodes, and the process can simply be started again once the cluster answers",
      },
    );
  }
}

/** A server address that is no URL the client can connect to (from --servers, NATS_URL or nats.servers). */
export class NatsUrlInvalidError extends JetbusError {
  override name = "NatsUrlInvalidError";
  constructor(
    readonly value: string,
    readonly problem: string,
  ) {
    super(ErrorCode.NatsUrlInvalid, `not a NATS server URL: ${JSON.stringify(value)}: ${problem}`);
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
