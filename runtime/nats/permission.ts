import { errors } from "@nats-io/transport-node";
import { PermissionDeniedError } from "../errors.ts";

/**
 * The client's PermissionViolationError (the server's `-ERR 'Permissions Violation ...'`) found in
 * `err` or its causes, as a PermissionDeniedError naming what jetbus was doing (`operation`) and
 * the subject the server refused. Anything else: undefined (the caller keeps its own reading).
 */
export function permissionDenied(err: unknown, operation: string): PermissionDeniedError | undefined {
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof errors.PermissionViolationError) return new PermissionDeniedError(operation, e.subject, err);
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Runs `fn`; a permission refusal becomes a PermissionDeniedError naming `operation`, every other error passes. */
export async function naming<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw permissionDenied(err, operation) ?? err;
  }
}
