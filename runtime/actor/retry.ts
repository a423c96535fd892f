import type { ActorSettings } from "../config/types.ts";
import { ErrorCode } from "../errors.ts";
import type { FailureDecision } from "./types.ts";

/**
 * Error codes that no retry can fix: a handler's TerminalError, and events whose content is
 * wrong (bad envelope, data failing its schema, too large). Everything else is retried.
 */
export const NON_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.Terminal,
  ErrorCode.EventInvalid,
  ErrorCode.SchemaViolation,
  ErrorCode.EventTooLarge,
]);

/** True when an error skips the remaining attempts. Reads `code` so it works across module copies. */
export function isTerminal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && NON_RETRYABLE_CODES.has(code);
}

/** Delay before redelivery after the `attempt`-th delivery failed; the schedule's last entry repeats. */
export function backoffDelayMs(backoff: ActorSettings["retry"]["backoff"], attempt: number): number {
  if (backoff.length === 0) return 0;
  const i = Math.min(Math.max(attempt, 1), backoff.length) - 1;
  return backoff[i]!;
}

/** Retry with the schedule's delay while attempts remain and the error is not terminal; else dead-letter. */
export function decideFailure(retry: ActorSettings["retry"], attempt: number, err: unknown): FailureDecision {
  if (isTerminal(err)) return { kind: "dead-letter", reason: "terminal" };
  if (attempt >= retry.max_attempts) return { kind: "dead-letter", reason: "exhausted" };
  return { kind: "retry", delayMs: backoffDelayMs(retry.backoff, attempt) };
}

/** The code recorded with a failure: a TerminalError's own code, else the error's `code`, else its class name. */
export function errorCodeOf(err: unknown): string {
  const e = err as { reason?: unknown; code?: unknown; name?: unknown } | null;
  if (typeof e?.reason === "string" && e.reason) return e.reason;
  if (typeof e?.code === "string" && e.code) return e.code;
  if (typeof e?.name === "string" && e.name) return e.name;
  return "ERROR";
}

export function errorMessageOf(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  // headers are one line: keep the message readable and bounded
  return m.replace(/[\r\n]+/g, " ").slice(0, 1024);
}
