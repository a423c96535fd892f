// The config cannot be used as given: invalid, unreadable, or a setting that clashes with the machine (bad input: exit 2).
import { ErrorCode, JetbusError, type Problem } from "./base.ts";
import { listProblems } from "./problem-list.ts";

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
