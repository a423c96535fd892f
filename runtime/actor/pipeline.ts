import type { JetStreamClient } from "@nats-io/jetstream";
import type { ActorSettings } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { createContext, type ContextDeps } from "./context.ts";
import { publishDeadLetter } from "./dead-letter.ts";
import { backoffDelayMs } from "./retry.ts";
import type { HandlerFn } from "./types.ts";
import { storeAdmission, type SchemaCheck } from "./middleware/admission.ts";
import { Chain, compose } from "./middleware/compose.ts";
import { deadLetter } from "./middleware/dead-letter.ts";
import { decode } from "./middleware/decode.ts";
import { failureLog } from "./middleware/failure-log.ts";
import { idempotency, type MarkerStore } from "./middleware/idempotency.ts";
import { deliveryLedger } from "./middleware/ledger.ts";
import { handlingMetrics } from "./middleware/metrics.ts";
import { retry } from "./middleware/retry.ts";
import { screen } from "./middleware/screen.ts";
import { timeout } from "./middleware/timeout.ts";
import { tracing } from "./middleware/tracing.ts";
import type { Delivered, Outcome, Screened, Settled, Step } from "./middleware/types.ts";

/** How long a processed marker write is retried through a leader election before the worker acks without it. */
const MARKER_RETRY_MS = 30_000;

export type PipelineDeps = Readonly<{
  settings: ActorSettings;
  handler: HandlerFn;
  logger: Logger;
  metrics: Metrics;
  js: JetStreamClient;
  ctx: ContextDeps;
  /** The actor's processed markers (ProcessedMarkers) when idempotency is on. */
  markers?: MarkerStore;
  /** A direct actor's event schemas: its deliveries from the store are checked as the router checks them (storeAdmission). */
  schemas?: SchemaCheck;
  /** The event store's duplicate window (ms), for a direct actor (see screen). */
  storeWindowMs?: number;
}>;

const HANDLED: Outcome = { kind: "ack", result: "handled" };

/**
 * An actor's handling of one delivery, as policies around the handler, outermost first: metrics,
 * delivery ledger, dead letter, failure log, (a direct actor's store admission), decode, screen,
 * idempotency, retry, tracing, then the handler wrapped in its own middleware (timeout, then the
 * actor's `use`). Each policy is typed by the stage it takes and hands on (Delivered, Decoded,
 * Screened), so this order is checked by tsc. Built once per worker; what it answers is Settled:
 * ack, nak, term or leave, nothing the worker has to interpret.
 *
 * The worker's concurrency slot is the handler's: it is given back (freeSlot) as the handler
 * returns or throws, so the marker write and the ack after it (a round trip to the server each)
 * do not keep the next delivery waiting.
 */
export function buildPipeline(d: PipelineDeps): Step<Delivered, Settled> {
  const s = d.settings;
  const limitMs = s.timeout;
  const handler = limitMs > 0 ? compose(d.handler, timeout(limitMs)) : d.handler;
  const invoke: Step<Screened> = (h) => {
    const event = h.event;
    const t0 = performance.now();
    let running: Promise<void>;
    try {
      running = handler(event, createContext(event, h.msg, d.ctx, h));
    } catch (err) {
      // a handler that throws before returning a promise fails like one that rejects
      running = Promise.reject(err);
    }
    return running.then(
      () => {
        h.ran(performance.now() - t0);
        h.freeSlot();
        return HANDLED;
      },
      (err: unknown) => {
        h.ran(performance.now() - t0);
        h.freeSlot();
        throw err;
      },
    );
  };
  return Chain.of<Delivered, Settled>()
    .then(handlingMetrics(d.metrics, s.name))
    .then(deliveryLedger())
    .then(
      deadLetter({
        enabled: s.dead_letter.enabled,
        sink: (msg, o) => publishDeadLetter(d.js, msg, { actor: s.name, ...o }),
        logger: d.logger,
        retryDelayMs: backoffDelayMs(s.retry.backoff, s.retry.backoff.length),
      }),
    )
    .then(failureLog(d.logger, s.retry.max_attempts))
    .maybe(d.schemas && storeAdmission(d.schemas))
    .then(decode())
    .then(screen({ ackWaitMs: s.ack_wait, storeWindowMs: d.storeWindowMs }))
    .maybe(
      d.markers &&
        idempotency(d.markers, {
          logger: d.logger,
          readRetryDelayMs: backoffDelayMs(s.retry.backoff, 1),
          writeRetryMs: MARKER_RETRY_MS,
        }),
    )
    .then(retry(s.retry))
    .then(tracing(s.name))
    .end(invoke);
}
