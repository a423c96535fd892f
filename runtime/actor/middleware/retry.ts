import type { ActorSettings } from "../../config/types.ts";
import { TimeoutError } from "../../errors.ts";
import { decideFailure } from "../retry.ts";
import type { Delivered, Outcome, Policy } from "./types.ts";

/**
 * Retry: a handler that throws is retried with a delayed nak (JetStream redelivers later;
 * nothing sleeps in-process), until `max_attempts` or a terminal error sends it to the dead
 * letters. A delivery past max_attempts whose earlier attempts never answered (worker killed,
 * ack_wait passed) goes to the dead letters without running again.
 */
export function retry<H extends Delivered>(settings: ActorSettings["retry"]): Policy<H> {
  return (next) => (h) => {
    if (h.attempt > settings.max_attempts) {
      const error = new TimeoutError(
        `delivered ${h.attempt} times; earlier attempts ended without an answer (worker killed or ack_wait expired)`,
      );
      return Promise.resolve<Outcome>({ kind: "dead-letter", attempts: h.attempt - 1, error, reason: "unanswered" });
    }
    return next(h).catch((error: unknown): Outcome => {
      const d = decideFailure(settings, h.attempt, error);
      if (d.kind === "retry") return { kind: "nak", delayMs: d.delayMs, error, ran: true, next: `retry in ${d.delayMs} ms` };
      return { kind: "dead-letter", attempts: h.attempt, error, ran: true, reason: d.reason };
    });
  };
}
