// A command asked for something that is not there or cannot be read: a name, a flag, a time.
import { didYouMean } from "../suggest.ts";
import { ErrorCode, JetbusError } from "./base.ts";

export class NotFoundError extends JetbusError {
  override name = "NotFoundError";
  /** `hint`: where to look instead (the command that lists what exists). */
  constructor(message: string, hint?: string) {
    super(ErrorCode.NotFound, message, { hint });
  }
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
