import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import type { ActorSettings } from "../config/types.ts";
import { TimeoutError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { ConsumerRunner, type StopResult, type Taken } from "../consumer/runner.ts";
import { Heartbeat, presenceKey } from "../presence/heartbeat.ts";
import { Tally } from "../presence/tally.ts";
import { tallyOutcome } from "./outcome-tally.ts";
import { EventSchemas } from "../store/schemas.ts";
import { Consumers, Streams } from "../topology.ts";
import { isDirect } from "../config/direct.ts";
import type { PublishEventFn } from "./context.ts";
import { ProcessedMarkers } from "./idempotency.ts";
import { consumersOf } from "./ordering.ts";
import { buildPipeline } from "./pipeline.ts";
import type { HandlerFn } from "./types.ts";
import { Handling } from "./middleware/handling.ts";
import type { Delivered, Settled, Step } from "./middleware/types.ts";

export type { StopResult } from "../consumer/runner.ts";
export const DEFAULT_GRACE_MS = 30_000;

export type ActorWorkerOptions = Readonly<{
  nc: NatsConnection;
  settings: ActorSettings;
  handler: HandlerFn;
  logger: Logger;
  metrics: Metrics;
  publishEvent: PublishEventFn;
  /** Unique per worker; defaults to `<host>-<pid>-<n>`. */
  replica?: string;
  /** Replicas of the KV buckets this worker creates (config store.replicas). */
  storeReplicas?: number;
  /** The `jetbus-presence` bucket; without it the worker does not heartbeat. */
  presence?: KV;
  /** Pull request expiry in ms (5s unless a test needs faster recovery). */
  expiresMs?: number;
  /** The event store a direct actor consumes (config store.stream; EVENTS by default). */
  storeStream?: string;
}>;

/**
 * Messages one pull asks for: four deliveries per concurrency slot (64 with the default 16), so
 * a worker pulls again after ~48 handlings rather than after ~12. Each pull is a request the
 * server handles; in the pipeline bench (nats-server 2.15.1, noop actor, markers and indexer
 * off) pulls of 16 cost the server 87 us and the actor 52 us of CPU per event, pulls of 64 66 us
 * and 43 us. What a worker holds beyond its slots waits with its ack deadline renewed, and is
 * at most 4x concurrency: other replicas still get the rest. An ordered partition admits one
 * message at a time, so a bigger pull buffer there would only sit idle.
 */
export function pullBatchOf(s: Pick<ActorSettings, "ordered" | "concurrency" | "max_ack_pending">): number {
  return s.ordered ? 1 : Math.max(1, Math.min(4 * s.concurrency, s.max_ack_pending));
}

let workerCount = 0;
const HOST = hostname().replace(/[^A-Za-z0-9_-]/g, "_");

/**
 * One replica of one actor: a ConsumerRunner over its durables (one, or one per partition for
 * ordered actors) feeding each delivery through the actor's pipeline of policies (see
 * buildPipeline), then acking, naking or terminating it as the pipeline decided. Any number of
 * workers in any number of processes share the durables and split the work.
 */
export class ActorWorker {
  readonly replica: string;
  private readonly abort = new AbortController();
  private readonly ackWaitMs: number;
  private readonly log: Logger;
  private runner?: ConsumerRunner;
  private markers?: ProcessedMarkers;
  private heartbeat?: Heartbeat;
  private stopped?: Promise<StopResult>;
  /** Handled and failed counts for the heartbeat (the console's rates). */
  private readonly tally = new Tally();

  constructor(private readonly o: ActorWorkerOptions) {
    this.replica = o.replica ?? `${HOST}-${process.pid}-${workerCount++}`;
    this.ackWaitMs = o.settings.ack_wait;
    // every running handler may listen on the shutdown signal (directly or through ctx.signal):
    // with concurrency above 10, Node would warn of a leak that is none
    setMaxListeners(0, this.abort.signal);
    this.log = o.logger.child({ actor: o.settings.name, replica: this.replica });
  }

  get name(): string {
    return this.o.settings.name;
  }

  /** Deliveries in their slots right now. */
  get inFlight(): number {
    return this.runner?.inFlight ?? 0;
  }

  /** Opens the marker bucket, starts heartbeating, and starts consuming. The durables must exist (ensureInbox). */
  async start(): Promise<void> {
    const s = this.o.settings;
    if (s.idempotency.enabled) this.markers = await ProcessedMarkers.open(this.o.nc, s, this.o.storeReplicas ?? 1, this.replica);
    const storeStream = this.o.storeStream ?? Streams.Events;
    const pipeline = buildPipeline({
      settings: s,
      handler: this.o.handler,
      logger: this.log,
      metrics: this.o.metrics,
      js: jetstream(this.o.nc),
      markers: this.markers,
      schemas: isDirect(s) ? new EventSchemas() : undefined,
      storeWindowMs: isDirect(s) ? await this.storeWindowMs(storeStream) : undefined,
      ctx: {
        actor: s.name,
        replica: this.replica,
        options: s.options,
        logger: this.o.logger,
        publishEvent: this.o.publishEvent,
        signal: this.abort.signal,
      },
    });
    if (this.o.presence) {
      const kv = this.o.presence;
      this.heartbeat = new Heartbeat(
        async () => kv,
        presenceKey("actor", s.name, this.replica),
        () => ({ role: "actor", name: s.name, replica: this.replica, inFlight: this.inFlight, counts: this.tally.snapshot() }),
        this.log,
      );
      await this.heartbeat.start();
    }
    const durables = consumersOf(s).map((c) => c.durable);
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: this.o.nc,
      stream: Streams.Inbox,
      durables,
      // one hop: the actor's own durable on the store, besides its inbox (replays, copies from before it was direct)
      alsoFrom: isDirect(s) ? [{ stream: storeStream, durable: Consumers.direct(s.name) }] : undefined,
      concurrency: s.concurrency,
      pullBatch: pullBatchOf(s),
      expiresMs: this.o.expiresMs,
      ackWaitMs: this.ackWaitMs,
      logger: this.log,
      handle: (msg, taken) => this.handle(pipeline, runner, msg, taken),
    });
    this.runner = runner;
    await runner.start();
    this.log.info({ consumers: durables.length, concurrency: s.concurrency, delivery: s.delivery }, "actor worker started");
  }

  /**
   * The store's duplicate window, for a direct actor's rule of when a store message may be a
   * second storing of its event (see screen). Unknown (no right to read the stream's info): every
   * store message is then treated as a possible duplicate, which costs a marker read each.
   */
  private async storeWindowMs(stream: string): Promise<number | undefined> {
    try {
      const info = await (await jetstreamManager(this.o.nc)).streams.info(stream);
      return info.config.duplicate_window / 1e6;
    } catch (err) {
      this.log.warn(
        { stream, err: (err as Error).message },
        "cannot read the store's duplicate window: every store message reads its marker",
      );
      return undefined;
    }
  }

  private handle(pipeline: Step<Delivered, Settled>, runner: ConsumerRunner, msg: JsMsg, taken: Taken): Promise<void> {
    return pipeline(new Handling(msg, taken)).then((out) => this.settle(runner, msg, out));
  }

  private settle(r: ConsumerRunner, msg: JsMsg, out: Settled): void {
    tallyOutcome(this.tally, out);
    if (out.kind === "ack") r.ack(msg);
    else if (out.kind === "nak") r.nak(msg, out.delayMs);
    else if (out.kind === "term") r.term(msg);
    // leave: a copy of a delivery still running here; whichever ack the server keeps settles it
  }

  /**
   * Graceful stop: no new deliveries, in-flight handlers get `graceMs` to finish and ack; when the
   * grace period runs out ctx.signal aborts and what is unfinished is redelivered after ack_wait.
   */
  stop(graceMs = DEFAULT_GRACE_MS, cutShort?: Promise<unknown>): Promise<StopResult> {
    this.stopped ??= this.shutdown(graceMs, cutShort);
    return this.stopped;
  }

  private async shutdown(graceMs: number, cutShort?: Promise<unknown>): Promise<StopResult> {
    let lost = false;
    void cutShort?.then(() => (lost = true));
    const result = this.runner
      ? await this.runner.stop(
          graceMs,
          (abandoned) => {
            this.abort.abort(
              new TimeoutError(
                lost ? "the connection to NATS is gone: nothing can be acked" : `shutdown grace period of ${graceMs} ms is over`,
              ),
            );
            this.log.warn(
              { abandoned },
              lost
                ? "connection to NATS lost while stopping: unfinished events will be redelivered after ack_wait"
                : "grace period over: unfinished events will be redelivered after ack_wait",
            );
          },
          cutShort,
        )
      : { finished: true, abandoned: 0 };
    // an abandoned handler that still finishes should still get to write its marker
    if (result.finished && !lost) await this.markers?.close();
    // with no server, a last heartbeat would only wait for a reply that cannot come; the key expires by itself
    if (!lost) await this.heartbeat?.stop();
    this.log.info({ abandoned: result.abandoned }, "actor worker stopped");
    return result;
  }
}
