import type { Logger } from "../../log.ts";
import { errorCodeOf } from "../retry.ts";
import { eventIdOf } from "./decode.ts";
import type { Delivered, Outcome, Policy } from "./types.ts";

/**
 * Failure log: one line at error level per failed handling, with the error itself (pino writes
 * its type, message and stack, so a TypeError shows its file and line), what failed, which
 * attempt, and what happens next (retry in N ms, dead letter and why).
 */
export function failureLog(logger: Logger, maxAttempts: number): Policy<Delivered, Delivered, Outcome, Outcome> {
  const log = (h: Delivered, out: Outcome): Outcome => {
    if ((out.kind !== "nak" && out.kind !== "dead-letter") || out.error === undefined) return out;
    const then = out.kind === "nak" ? (out.next ?? `retry in ${out.delayMs} ms`) : `dead-letter (${out.reason})`;
    const e = h.event;
    logger.error(
      {
        eventId: eventIdOf(h),
        eventType: e?.type,
        correlationId: e?.correlationid,
        seq: h.msg.seq,
        attempt: h.attempt,
        maxAttempts,
        err: out.error,
        code: errorCodeOf(out.error),
        next: then,
      },
      e ? "handler failed" : "inbox message is not a valid event",
    );
    return out;
  };
  return (next) => (h) => next(h).then((out) => log(h, out));
}
