import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { JetbusConfig } from "../config/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import { ensureOrderedLaneConsumer, orderedLaneExists } from "./lane-consumers.ts";
import { OrderedLane, type OrderedLaneDeps, type RouteOrdered } from "./ordered-lane.ts";
import { STARTUP_RETRY } from "./router-startup.ts";

export type LazyOrderedLaneDeps = OrderedLaneDeps &
  Readonly<{
    /** ack_wait of the ordered durable when this replica creates it. */
    ackWaitMs?: number;
    /** True once the router stops: a start under way then creates the durable but does not pull it. */
    stopping: () => boolean;
  }>;

function hasOrderedActor(config: Pick<JetbusConfig, "actors">): boolean {
  return config.actors.some((a) => a.ordered !== undefined);
}

/**
 * A router replica's ordered lane, from the moment it is needed: at start-up when the config has
 * an ordered actor or the durable exists already, or when a live config first adds one (see Router).
 * Started once per replica; a failed start may be tried again.
 */
export class LazyOrderedLane {
  private lane?: OrderedLane;
  /** Set once this replica knows the ordered durable exists; from then on the competing lane leaves ordered copies to it. */
  private durableReady = false;
  private starting?: Promise<void>;

  constructor(
    private readonly deps: LazyOrderedLaneDeps,
    private readonly route: RouteOrdered,
  ) {}

  /** See durableReady. */
  get ready(): boolean {
    return this.durableReady;
  }

  /** True while this replica is pinned to the ordered lane. */
  get holding(): boolean {
    return this.lane?.holding ?? false;
  }

  get inFlight(): number {
    return this.lane?.inFlight ?? 0;
  }

  /** At start-up: the lane starts if the config has an ordered actor, or if an earlier config had one (the durable exists). */
  async startIfNeeded(jsm: JetStreamManager, config: Pick<JetbusConfig, "actors">): Promise<void> {
    if (hasOrderedActor(config) || (await retryTransient(() => orderedLaneExists(jsm, this.deps.stream), STARTUP_RETRY)))
      await this.start();
  }

  /** A live config revision: its first ordered actor starts the lane. */
  follow(config: Pick<JetbusConfig, "actors">): void {
    // added live: until the lane is there, events with ordered copies are given back
    if (!this.durableReady && hasOrderedActor(config)) this.startInBackground();
  }

  /** Creates (or pins) the ordered durable if needed, then pulls it in its priority group (once per replica). */
  start(): Promise<void> {
    this.starting ??= (async () => {
      const { nc, stream, ackWaitMs } = this.deps;
      const jsm = await jetstreamManager(nc);
      await retryTransient(() => ensureOrderedLaneConsumer(jsm, stream, ackWaitMs), STARTUP_RETRY);
      this.durableReady = true;
      if (this.deps.stopping()) return;
      this.lane = new OrderedLane(this.deps, this.route);
      await this.lane.start();
    })();
    this.starting.catch(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  startInBackground(): void {
    this.start().catch((err) =>
      this.deps.logger.error({ err: (err as Error).message }, "ordered lane could not be created; events with ordered copies wait for it"),
    );
  }

  /** Waits for a start under way to end (it pulls nothing once the router stops), not past `cutShort`. */
  async started(cutShort?: Promise<unknown>): Promise<void> {
    await unlessCutShort(this.starting?.catch(() => undefined) ?? Promise.resolve(), cutShort);
  }

  /** See OrderedLane.stop; resolves with how many events were left unsettled. */
  async stop(cutShort?: Promise<unknown>): Promise<number> {
    return (await this.lane?.stop(cutShort)) ?? 0;
  }
}
