// An event that cannot be accepted: malformed, too large, or not matching its schema (bad input: exit 2).
import { ErrorCode, JetbusError, type Problem } from "./base.ts";
import { listProblems } from "./problem-list.ts";

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
