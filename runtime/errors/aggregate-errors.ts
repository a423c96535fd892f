// Event-sourced aggregates (runtime/aggregate): a command that could not be appended, a definition that cannot be used.
import { ErrorCode, JetbusError } from "./base.ts";

/**
 * Other writers appended to the entity between every read and append of a command, more times
 * than its retries allow (or `expectedVersion` was given and the entity was at another version).
 * Nothing of the command was stored. Retryable: running the command again decides on fresh state.
 */
export class AggregateConflictError extends JetbusError {
  override name = "AggregateConflictError";
  constructor(
    readonly aggregate: string,
    readonly id: string,
    readonly attempts: number,
    detail: string,
  ) {
    super(ErrorCode.AggregateConflict, `${aggregate} ${JSON.stringify(id)}: ${detail}`, {
      retryable: true,
      hint: "the entity is written by many writers at once: raise `retries`, or route its commands through one writer (an ordered actor keyed by the entity id)",
    });
  }
}

/** An aggregate definition or configured aggregate module that cannot be used, naming what is wrong. */
export class AggregateInvalidError extends JetbusError {
  override name = "AggregateInvalidError";
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.AggregateInvalid, message, {
      cause,
      hint: "`jetbus config validate` loads every aggregate module and lists each problem with its JSON path",
    });
  }
}
