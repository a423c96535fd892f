import { createRequire } from "node:module";
import { LocalHistogram } from "./local-histogram.ts";

/** prom-client, loaded when the first instrument is built (see buildInstruments). */
export function loadPromClient(): typeof import("prom-client") {
  return createRequire(import.meta.url)("prom-client") as typeof import("prom-client");
}

/** Reads some consumers' lag from NATS and sets `consumerPending` for them. */
export type LagSampler = () => Promise<void>;

const LAG_SAMPLE_TIMEOUT_MS = 2000;

/**
 * The instruments of one Metrics, in one registry. Built on first use: prom-client and its
 * dependencies are ~80 modules, and a one-shot command (history, get, trace) counts nothing
 * anyone scrapes; it never touches them, so it never loads them.
 */
function buildInstruments(defaultMetrics: boolean, sampleLag: () => Promise<void>, flush: () => void) {
  const prom = loadPromClient();
  const registry = new prom.Registry();
  const registers = [registry];
  if (defaultMetrics) prom.collectDefaultMetrics({ register: registry });
  const handlerSeconds = new LocalHistogram(
    "jetbus_handler_duration_seconds",
    "Time spent in handle(), per attempt",
    ["actor", "type"],
    // up to the default handler timeout (5m): a handler near its limit shows in a bucket, not only in +Inf
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  );
  registry.registerMetric(handlerSeconds as never);
  return {
    registry,
    /** Each event an actor is done with, once: handled, dead_lettered, dropped (dead letters off) or duplicate (acked without the handler). */
    handlings: new prom.Counter({
      name: "jetbus_handlings_total",
      help: "Deliveries an actor settled for good, by outcome: handled, dead_lettered, dropped, duplicate",
      labelNames: ["actor", "type", "rule", "outcome"],
      registers,
      // counts kept by hot paths (see addFlush) are added when read
      collect: flush,
    }),
    /** Each run of a handler: outcome ok or error, with the error's code (a retried event counts once per attempt). */
    attempts: new prom.Counter({
      name: "jetbus_handling_attempts_total",
      help: "Handler runs, by outcome (ok, error) and error code",
      labelNames: ["actor", "type", "rule", "outcome", "code"],
      registers,
      collect: flush,
    }),
    /** Fed per event by the actors' metrics policy: series looked up once, not per observation (see LocalHistogram). */
    handlerSeconds,
    routed: new prom.Counter({
      name: "jetbus_router_routed_total",
      help: "Event copies delivered to actor inboxes",
      labelNames: ["actor"],
      registers,
    }),
    unrouted: new prom.Counter({ name: "jetbus_router_unrouted_total", help: "Events no rule selected", registers }),
    quarantined: new prom.Counter({
      name: "jetbus_router_quarantined_total",
      help: "Messages the router could not decode",
      registers,
    }),
    consumerPending: new prom.Gauge({
      name: "jetbus_consumer_pending",
      help: "Messages a durable consumer has not finished: not yet delivered plus delivered and unacked (lag)",
      labelNames: ["consumer", "actor"],
      registers,
      collect: sampleLag,
    }),
    indexed: new prom.Counter({
      name: "jetbus_indexer_indexed_total",
      help: "Events written to the id and correlation indexes",
      registers,
    }),
    malformed: new prom.Counter({
      name: "jetbus_malformed_total",
      help: "Stored messages that could not be decoded (skipped, still readable raw)",
      labelNames: ["component"],
      registers,
    }),
  };
}

type Instruments = ReturnType<typeof buildInstruments>;

/**
 * The Prometheus metrics of one jetbus process. One instance per process (a child container
 * per test gets its own), so tests can read exactly the counts they caused.
 */
export class Metrics {
  private built?: Instruments;
  /** Read from NATS when scraped (see addLagSampler), so the lag is as fresh as the scrape. */
  private readonly lagSamplers = new Set<LagSampler>();
  private readonly onBuild: ((m: Metrics) => void)[] = [];
  private readonly flushers = new Set<() => void>();

  constructor(private readonly opts: { defaultMetrics?: boolean } = {}) {}

  private get all(): Instruments {
    if (!this.built) {
      this.built = buildInstruments(
        this.opts.defaultMetrics ?? false,
        () => this.sampleLag(),
        () => this.flush(),
      );
      for (const fn of this.onBuild.splice(0)) fn(this);
    }
    return this.built;
  }

  /** Runs `fn` (which registers more instruments) once the registry exists: now, or when something first uses it. */
  whenBuilt(fn: (m: Metrics) => void): void {
    if (this.built) fn(this);
    else this.onBuild.push(fn);
  }

  // each instrument reads through `all`, so the first one used builds them all
  get registry() {
    return this.all.registry;
  }
  get handlings() {
    return this.all.handlings;
  }
  get attempts() {
    return this.all.attempts;
  }
  get handlerSeconds() {
    return this.all.handlerSeconds;
  }
  get routed() {
    return this.all.routed;
  }
  get unrouted() {
    return this.all.unrouted;
  }
  get quarantined() {
    return this.all.quarantined;
  }
  get consumerPending() {
    return this.all.consumerPending;
  }
  get indexed() {
    return this.all.indexed;
  }
  get malformed() {
    return this.all.malformed;
  }

  /**
   * Registers `fn`, which adds counts a hot path kept in plain numbers to the counters
   * (`handlings`, `attempts`); run whenever they are read (a scrape, a test's get()). A labelled
   * prom-client `inc` hashes its label set each time, about 1 us: once per read instead of once
   * per event. Returns its removal.
   */
  addFlush(fn: () => void): () => void {
    this.flushers.add(fn);
    return () => this.flushers.delete(fn);
  }

  private flush(): void {
    for (const fn of this.flushers) fn();
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
