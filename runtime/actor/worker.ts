import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import type { ActorSettings } from "../config/types.ts";
import { TimeoutError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { ConsumerRunner, type StopResult } from "../consumer/runner.ts";
import { Heartbeat, presenceKey, Tally } from "../presence/mod.ts";
import { tallyOutcome } from "./outcome-tally.ts";
import { EventSchemas } from "../store/schemas.ts";
import { Consumers, Streams } from "../topology.ts";
import { isDirect } from "./direct.ts";
import type { PublishEventFn } from "./context.ts";
import { ProcessedMarkers } from "./idempotency.ts";
import { consumersOf } from "./ordering.ts";
import { buildPipeline } from "./pipeline.ts";
import type { HandlerFn } from "./types.ts";
import { decodeHandling, primeMarker, type Handling, type Outcome, type Step } from "./middleware/mod.ts";

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
  private runner?: ConsumerRunner<Handling>;
  private pipeline?: Step;
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
    this.pipeline = buildPipeline({
      settings: s,
      handler: this.o.handler,
      logger: this.log,
      metrics: this.o.metrics,
      js: jetstream(this.o.nc),
      markers: this.markers,
      schemas: isDirect(s) ? new EventSchemas() : undefined,
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
    this.runner = new ConsumerRunner<Handling>({
      nc: this.o.nc,
      stream: Streams.Inbox,
      durables,
      // one hop: the actor's own durable on the store, besides its inbox (replays, copies from before it was direct)
      alsoFrom: isDirect(s) ? [{ stream: this.o.storeStream ?? Streams.Events, durable: Consumers.direct(s.name) }] : undefined,
      concurrency: s.concurrency,
      pullBatch: pullBatchOf(s),
      expiresMs: this.o.expiresMs,
      ackWaitMs: this.ackWaitMs,
      logger: this.log,
      prepare: (msg) => this.prepare(msg),
      handle: (msg, early, waitedMs, freeSlot) => this.handle(msg, early, waitedMs, freeSlot),
    });
    await this.runner.start();
    this.log.info({ consumers: durables.length, concurrency: s.concurrency, delivery: s.delivery }, "actor worker started");
  }

  /** A delivery waiting for a slot: decode it and send its marker read now, so the answer is there when the slot frees. */
  private prepare(msg: JsMsg): Handling {
    const h: Handling = { msg, attempt: msg.info.deliveryCount };
    decodeHandling(h);
    if (this.markers) primeMarker(this.markers, h, true);
    return h;
  }

  private async handle(msg: JsMsg, early: Handling | undefined, waitedMs: number, freeSlot: () => void): Promise<void> {
    const h = early ?? { msg, attempt: msg.info.deliveryCount };
    h.freeSlot = freeSlot;
    // a wait past half of ack_wait relied on renewals; if one was lost (a consumer leader change)
    // another replica may have handled the event meanwhile: ask again, and ask the leader
    if (waitedMs > this.ackWaitMs / 2 && h.markerKey !== undefined) {
      h.markerSeen = undefined;
      h.askLeader = true;
    }
    const out = await this.pipeline!(h);
    tallyOutcome(this.tally, out);
    this.settle(msg, out);
  }

  private settle(msg: JsMsg, out: Outcome): void {
    const r = this.runner!;
    if (out.kind === "ack") r.ack(msg);
    else if (out.kind === "nak") r.nak(msg, out.delayMs);
    else if (out.kind === "term") r.term(msg);
    else if (out.kind === "dead-letter") r.nak(msg, 0); // not reached: the dead-letter policy turns it into term or nak
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
