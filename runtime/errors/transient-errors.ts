// Work that failed for now and may succeed if tried again: each sets `retryable`.
import { ErrorCode, JetbusError } from "./base.ts";

export class TimeoutError extends JetbusError {
  override name = "TimeoutError";
  constructor(message: string) {
    super(ErrorCode.Timeout, message, { retryable: true });
  }
}

/** Work that needs a part of the runtime still being set up; offered again shortly. */
export class NotReadyError extends JetbusError {
  override name = "NotReadyError";
  constructor(message: string) {
    super(ErrorCode.NotReady, message, { retryable: true });
  }
}

/** Work refused because this process is no longer (or cannot prove it is still) the pinned client of a durable. */
export class PinLostError extends JetbusError {
  override name = "PinLostError";
  constructor(
    readonly durable: string,
    reason: string,
  ) {
    super(ErrorCode.PinLost, `no longer pinned to ${durable}: ${reason}`, { retryable: true });
  }
}

/** A stateful handling kept losing its commit to concurrent changes of the same key; retried later. */
export class StateConflictError extends JetbusError {
  override name = "StateConflictError";
  constructor(
    readonly actor: string,
    readonly key: string,
    attempts: number,
  ) {
    super(ErrorCode.StateConflict, `actor ${actor}: the state of key ${JSON.stringify(key)} changed under ${attempts} handlings in a row`, {
      retryable: true,
    });
  }
}
