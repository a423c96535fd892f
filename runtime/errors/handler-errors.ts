// An actor's handler: one that cannot be loaded, or one that gives up on an event for good.
import { ErrorCode, JetbusError } from "./base.ts";

/** An actor's handler cannot be loaded or built: missing module, no handler export, a constructor parameter without @inject. */
export class HandlerInvalidError extends JetbusError {
  override name = "HandlerInvalidError";
  constructor(
    readonly actor: string,
    message: string,
    cause?: unknown,
  ) {
    super(ErrorCode.HandlerInvalid, `actor "${actor}": ${message}`, { cause });
  }
}

/** Thrown by a handler to skip the remaining retry attempts and dead-letter the event at once. */
export class TerminalError extends JetbusError {
  override name = "TerminalError";
  constructor(message: string, opts: { cause?: unknown; code?: string } = {}) {
    super(ErrorCode.Terminal, message, { cause: opts.cause });
    this.reason = opts.code;
  }
  readonly reason?: string;
}
