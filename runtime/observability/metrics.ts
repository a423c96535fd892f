import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Reads some consumers' lag from NATS and sets `consumerPending` for them. */
export type LagSampler = () => Promise<void>;

const LAG_SAMPLE_TIMEOUT_MS = 2000;

/**
 * The Prometheus metrics of one jetbus process. One instance per process (a child container
 * per test gets its own), so tests can read exactly the counts they caused.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Each event an actor is done with, once: handled, dead_lettered, dropped (dead letters off) or duplicate (acked without the handler). */
  readonly handlings = new Counter({
    name: "jetbus_handlings_total",
    help: "Deliveries an actor settled for good, by outcome: handled, dead_lettered, dropped, duplicate",
    labelNames: ["actor", "type", "rule", "outcome"],
    registers: [this.registry],
  });
  /** Each run of a handler: outcome ok or error, with the error's code (a retried event counts once per attempt). */
  readonly attempts = new Counter({
    name: "jetbus_handling_attempts_total",
    help: "Handler runs, by outcome (ok, error) and error code",
    labelNames: ["actor", "type", "rule", "outcome", "code"],
    registers: [this.registry],
  });
  readonly handlerSeconds = new Histogram({
    name: "jetbus_handler_duration_seconds",
    help: "Time spent in handle(), per attempt",
    labelNames: ["actor", "type"],
    // up to the default handler timeout (5m): a handler near its limit shows in a bucket, not only in +Inf
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly routed = new Counter({
    name: "jetbus_router_routed_total",
    help: "Event copies delivered to actor inboxes",
    labelNames: ["actor"],
    registers: [this.registry],
  });
  readonly unrouted = new Counter({ name: "jetbus_router_unrouted_total", help: "Events no rule selected", registers: [this.registry] });
  readonly quarantined = new Counter({
    name: "jetbus_router_quarantined_total",
    help: "Messages the router could not decode",
    registers: [this.registry],
  });
  /** Read from NATS when scraped (see addLagSampler), so the lag is as fresh as the scrape. */
  private readonly lagSamplers = new Set<LagSampler>();
  readonly consumerPending = new Gauge({
    name: "jetbus_consumer_pending",
    help: "Messages a durable consumer has not finished: not yet delivered plus delivered and unacked (lag)",
    labelNames: ["consumer", "actor"],
    registers: [this.registry],
    collect: () => this.sampleLag(),
  });
  readonly indexed = new Counter({
    name: "jetbus_indexer_indexed_total",
    help: "Events written to the id and correlation indexes",
    registers: [this.registry],
  });
  readonly malformed = new Counter({
    name: "jetbus_malformed_total",
    help: "Stored messages that could not be decoded (skipped, still readable raw)",
    labelNames: ["component"],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Registers a lag reader run on every scrape; returns its removal. */
  addLagSampler(sampler: LagSampler): () => void {
    this.lagSamplers.add(sampler);
    return () => this.lagSamplers.delete(sampler);
  }

  /**
   * Runs every lag reader, each bounded by LAG_SAMPLE_TIMEOUT_MS: a scrape during a NATS outage
   * answers in time with the last known values instead of hanging or failing.
   */
  private async sampleLag(): Promise<void> {
    await Promise.all(
      [...this.lagSamplers].map((sample) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((r) => (timer = setTimeout(r, LAG_SAMPLE_TIMEOUT_MS)));
        return Promise.race([
          Promise.resolve()
            .then(sample)
            .catch(() => undefined),
          timeout,
        ]).finally(() => clearTimeout(timer));
      }),
    );
  }
}
