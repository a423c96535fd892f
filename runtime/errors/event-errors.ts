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

/**
 * An event older than its type's latest version that cannot be upcast: no upcaster from its
 * version, or an upcaster threw (the cause). Raised where old events are read (actor delivery,
 * aggregate loads); an actor dead-letters such a delivery at once, as it does an undecodable one.
 */
export class EventVersionError extends JetbusError {
  override name = "EventVersionError";
  constructor(
    readonly eventType: string,
    readonly version: number,
    message: string,
    cause?: unknown,
  ) {
    super(ErrorCode.EventVersion, `${eventType} version ${version}: ${message}`, { cause });
  }
}
