import { ErrorCode, JetbusError } from "../errors.ts";

/** Exit codes: 0 ok, 1 not found or failed, 2 bad input or config (docs/reference/cli.md lists them from these comments). */
export const ExitCode = {
  /** Done as asked. */
  Ok: 0,
  /** Not found, or failed: a server that cannot be reached or refuses, a timeout, a check that found anomalies; trying again later (or elsewhere) may help. */
  Failed: 1,
  /** Bad input or config: the command line, the config file, an event or a setting must change before it can work. */
  BadInput: 2,
} as const;

const BAD_INPUT: ReadonlySet<string> = new Set([
  ErrorCode.ConfigInvalid,
  ErrorCode.ConfigUnreadable,
  ErrorCode.EventInvalid,
  ErrorCode.EventTooLarge,
  ErrorCode.SchemaViolation,
  ErrorCode.Usage,
  ErrorCode.StoreConflict,
  ErrorCode.DataLoss,
  ErrorCode.Durability,
  ErrorCode.HandlerInvalid,
  ErrorCode.PortInUse,
  ErrorCode.NatsUrlInvalid,
]);

const HINTS: Partial<Record<string, string>> = {
  [ErrorCode.ConfigInvalid]: "fix the listed keys; `jetbus config validate FILE` checks a file without starting anything",
  [ErrorCode.ConfigUnreadable]: "pass an existing file with --config",
  [ErrorCode.NotFound]:
    "check the name, id or sequence: the matching list command shows what exists (`jetbus history`, `dlq list`, `quarantine list`, `state list`, `config history`)",
  [ErrorCode.Timeout]: "is the NATS server reachable? pass --servers or set NATS_URL",
  [ErrorCode.NatsServerTooOld]: "upgrade that server (Debian: the `nats-server` package of the current suite; Docker: nats:2.12 or later)",
  [ErrorCode.NatsUnreachable]:
    "start a server there, or point jetbus at one with --servers URLS or NATS_URL (with neither, jetbus starts its own)",
  [ErrorCode.NatsUrlInvalid]:
    "write each server as host:port, nats://host:port or tls://host:port, comma-separated, in --servers, NATS_URL or the config's nats.servers",
  [ErrorCode.StoreConflict]: "change the setting back, or migrate the stream by hand (jetbus never deletes data implicitly)",
  [ErrorCode.HandlerInvalid]: "`jetbus config validate` loads every actor module and lists each problem with its JSON path",
  [ErrorCode.StoreMissing]:
    "create the store with `jetbus store apply` (or start `jetbus up` / `jetbus router`, which create a missing store)",
  [ErrorCode.DataLoss]:
    "check the listed losses, then run `jetbus store apply --allow-data-loss` to accept them, or change the config back",
  [ErrorCode.PermissionDenied]: "connect as a user allowed to do this (the operator, e.g. jetbus-admin in deploy/cluster/accounts.conf)",
  [ErrorCode.Durability]:
    "raise the listed streams and buckets to 3 replicas (store.replicas: 3, `nats stream edit`), or make the config match the deployed store; without --strict these are warnings",
};

/** The hint printed under an error of this code when the error carries none of its own. */
export function hintFor(code: string): string | undefined {
  return HINTS[code];
}

export function exitCodeFor(err: unknown): number {
  return err instanceof JetbusError && BAD_INPUT.has(err.code) ? ExitCode.BadInput : ExitCode.Failed;
}

/** One clear line (or the list of problems) plus a hint; the stack only with --debug. */
export function reportError(err: unknown, debug: boolean): void {
  const e = err as Error;
  const code = err instanceof JetbusError ? ` [${err.code}]` : "";
  process.stderr.write(`error${code}: ${e?.message ?? String(err)}\n`);
  // the error's own hint (it knows which command it came from), else the one of its code
  const hint = err instanceof JetbusError ? (err.hint ?? hintFor(err.code)) : undefined;
  if (hint) process.stderr.write(`hint: ${hint}\n`);
  if (debug && e?.stack) process.stderr.write(e.stack + "\n");
}
