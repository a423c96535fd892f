import type { JetStreamClient } from "@nats-io/jetstream";
import type { ActorSettings } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { createContext, type ContextDeps } from "./context.ts";
import { publishDeadLetter } from "./dead-letter.ts";
import { backoffDelayMs } from "./retry.ts";
import type { HandlerFn } from "./types.ts";
import {
  compose,
  composePolicies,
  deadLetter,
  decode,
  deliveryLedger,
  failureLog,
  handlingMetrics,
  idempotency,
  retry,
  storeAdmission,
  timeout,
  tracing,
  type MarkerStore,
  type Outcome,
  type Policy,
  type SchemaCheck,
  type Step,
} from "./middleware/mod.ts";

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
}>;

const HANDLED: Outcome = { kind: "ack", result: "handled" };

/**
 * An actor's handling of one delivery, as policies around the handler, outermost first:
 * metrics, delivery ledger, dead letter, failure log, (a direct actor's store admission), decode, idempotency, retry, tracing, then
 * the handler wrapped in its own middleware (timeout). Built once per worker.
 *
 * The worker's concurrency slot is the handler's: it is given back (Handling.freeSlot) as the
 * handler returns or throws, so the marker write and the ack after it (a round trip to the
 * server each) do not keep the next delivery waiting.
 */
export function buildPipeline(d: PipelineDeps): Step {
  const s = d.settings;
  const limitMs = s.timeout;
  const handler = limitMs > 0 ? compose(d.handler, timeout(limitMs)) : d.handler;
  const invoke: Step = async (h) => {
    const event = h.event!;
    const t0 = performance.now();
    try {
      await handler(event, createContext(event, h.msg, d.ctx));
    } finally {
      h.handlerMs = performance.now() - t0;
      h.freeSlot?.();
    }
    return HANDLED;
  };
  const policies: Policy[] = [
    handlingMetrics(d.metrics, s.name),
    deliveryLedger(),
    deadLetter({
      enabled: s.dead_letter.enabled,
      sink: (msg, o) => publishDeadLetter(d.js, msg, { actor: s.name, ...o }),
      logger: d.logger,
      retryDelayMs: backoffDelayMs(s.retry.backoff, s.retry.backoff.length),
    }),
    failureLog(d.logger, s.retry.max_attempts),
  ];
  if (d.schemas) policies.push(storeAdmission(d.schemas));
  policies.push(decode());
  if (d.markers)
    policies.push(
      idempotency(d.markers, { logger: d.logger, readRetryDelayMs: backoffDelayMs(s.retry.backoff, 1), writeRetryMs: MARKER_RETRY_MS }),
    );
  policies.push(retry(s.retry), tracing(s.name));
  return composePolicies(invoke, ...policies);
}
