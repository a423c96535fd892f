import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../../log.ts";
import { errorMessageOf } from "../retry.ts";
import { eventIdOf } from "./decode.ts";
import type { DeadLetterOutcome, Delivered, Outcome, Policy, Settled } from "./types.ts";

/** Stores a dead letter and resolves once it is stored (publishDeadLetter). */
export type DeadLetterSink = (msg: JsMsg, o: { eventId: string; attempts: number; error: unknown }) => Promise<void>;

export type DeadLetterOptions = Readonly<{
  /** dead_letter.enabled: false terminates and only logs. */
  enabled: boolean;
  sink: DeadLetterSink;
  logger: Logger;
  /** Delay before a delivery whose dead letter could not be stored comes back to try again. */
  retryDelayMs: number;
}>;

/**
 * Dead letter: a delivery the chain gives up on is stored on `dlq.<actor>` and only then
 * terminated; if the store fails, the original stays (nak) and comes back to try again. What it
 * hands out the worker can carry out as is (Settled: no "dead-letter" left).
 */
export function deadLetter(o: DeadLetterOptions): Policy<Delivered, Delivered, Outcome, Settled> {
  const giveUp = async (h: Delivered, out: DeadLetterOutcome): Promise<Settled> => {
    const eventId = eventIdOf(h);
    if (!o.enabled) {
      o.logger.error({ eventId, attempts: out.attempts, err: errorMessageOf(out.error) }, "dead letters disabled: event dropped");
      return { kind: "term", result: "dropped", error: out.error, ran: out.ran };
    }
    try {
      await o.sink(h.msg, { eventId, attempts: out.attempts, error: out.error });
    } catch (err) {
      o.logger.error({ eventId, err: errorMessageOf(err) }, "could not store the dead letter; the event stays in the inbox");
      return { kind: "nak", delayMs: o.retryDelayMs, error: out.error, ran: out.ran };
    }
    return { kind: "term", result: "dead_lettered", error: out.error, ran: out.ran };
  };
  return (next) => (h) => next(h).then((out) => (out.kind === "dead-letter" ? giveUp(h, out) : out));
}
