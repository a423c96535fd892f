import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { DependencyContainer } from "tsyringe";
import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import { StoreMissingError, UnknownActorError } from "../errors.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../observability/metrics.ts";
import { EventBus } from "../store/bus.ts";
import { notificationTypesOf } from "../config/notifications.ts";
import { isDirect } from "../config/direct.ts";
import { ensureDirectConsumers } from "./direct.ts";
import { ensureActorConsumers, ensureInboxStreams, InboxLayout } from "./inbox.ts";
import { actorLagSampler } from "./lag.ts";
import { openPresenceBucket } from "../presence/heartbeat.ts";
import { resolveHandler } from "./resolve.ts";
import { handlerSourceFor } from "./module-loader.ts";
import type { HandlerSource } from "./registry.ts";
import { ActorWorker, DEFAULT_GRACE_MS, type StopResult } from "./worker.ts";
import { isStatefulDefinition } from "./define.ts";
import { compose } from "./middleware/compose.ts";
import type { Middleware } from "./middleware/types.ts";
import { attachState } from "./state/attach.ts";
import { withStateOrdering } from "./state/ordering-default.ts";
import { StateSchemas } from "./state/schema.ts";
import { Timers } from "./state/timers.ts";
import type { HandlerFn } from "./types.ts";

/** What starting actors needs of the process (app/bootstrap.ts's Runtime holds it). */
export type ActorHost = Readonly<{
  nc: NatsConnection;
  config: JetbusConfig;
  /** Where relative actor `module` paths start. */
  projectDir: string;
  logger: Logger;
  metrics: Metrics;
  /** Builds handler classes (read only for a class handler's actor). */
  container: DependencyContainer;
}>;

export type StartActorsOptions = Readonly<{
  /** Workers per actor in this process; defaults to each actor's `replicas`. */
  replicas?: number;
  /** Pull request expiry of the consumers (ms), for tests; the client default otherwise. */
  expiresMs?: number;
  /** Loads actor modules under this version (a URL query) instead of the cached import: `up --watch` after an edit. */
  moduleVersion?: number;
  /** Handlers by name, looked up before the process-wide registry (an embedding service's own: createJetbus's `handlers`). */
  handlers?: ReadonlyMap<string, HandlerSource>;
  /** Middleware around every actor's handler, the first listed outermost (outside an actor's own). */
  use?: readonly Middleware[];
}>;

export type RunningActors = Readonly<{
  workers: readonly ActorWorker[];
  /** Graceful stop of every worker (see ActorWorker.stop), then the publisher. */
  /** `cutShort` ends the grace period early (see ActorWorker.stop). */
  stop(graceMs?: number, cutShort?: Promise<unknown>): Promise<StopResult>;
}>;

export function selectActors(all: readonly ActorSettings[], names?: readonly string[]): ActorSettings[] {
  if (!names || names.length === 0) return [...all];
  return names.map((n) => {
    const a = all.find((x) => x.name === n);
    if (!a)
      throw new UnknownActorError(
        n,
        all.map((x) => x.name),
      );
    return a;
  });
}

/** Actors whose durables are ready, not yet consuming: see prepareActors. */
export type PreparedActors = Readonly<{
  /** The settings each actor runs with (a stateful actor ordered on its state key, see withStateOrdering). */
  settings: readonly ActorSettings[];
  start(): Promise<RunningActors>;
}>;

/**
 * The first half of startActors: loads every selected actor's handler, settles its settings, and
 * brings its durables to the layout they need (InboxLayout.Switch: an actor made ordered or
 * unordered, or given another partition count, gets new durables with everything that waited in
 * the old ones). Nothing consumes yet. `up` runs this before its router starts, so the copies the
 * inbox held are filed into their partitions before the router publishes a new one behind them.
 * A direct actor needs the store: without it this fails (StoreMissingError) before anything is created.
 */
export async function prepareActors(rt: ActorHost, names?: readonly string[], opts: StartActorsOptions = {}): Promise<PreparedActors> {
  const selected = selectActors(rt.config.actors, names);
  // every handler before anything is created: a missing module stops the start, not the third actor
  const sources = new Map<string, HandlerSource>();
  for (const s of selected) sources.set(s.name, await handlerSourceFor(s, rt.projectDir, { version: opts.moduleVersion }, opts.handlers));
  const settings = selected.map((s) => withStateOrdering(s, sources.get(s.name)));
  const jsm = await jetstreamManager(rt.nc);
  const stream = rt.config.store.stream;
  const direct = settings.filter(isDirect);
  if (direct.length > 0 && !(await retryTransient(() => orMissing(() => jsm.streams.info(stream)))))
    throw new StoreMissingError(stream, `actor "${direct[0]!.name}" has delivery "direct" (its durable reads the store)`);
  await ensureInboxStreams(jsm, rt.config);
  const actorNames = new Set(rt.config.actors.map((a) => a.name));
  for (const s of settings)
    await ensureActorConsumers(jsm, s, {
      actorNames,
      layout: InboxLayout.Switch,
      onRefiled: (r) => rt.logger.info(r, "actor's durables changed layout; waiting copies filed into the new partitions"),
    });
  if (direct.length > 0) await ensureDirectConsumers(jsm, stream, rt.config, { update: false, only: new Set(direct.map((a) => a.name)) });
  return { settings, start: () => startPrepared(rt, settings, sources, jsm, opts) };
}

/**
 * Runs actors in this process: the named ones (default every configured actor), each with
 * `replicas` workers. Creates the inbox, dead-letter stream and durables when missing.
 * `jetbus up` and `jetbus actor` both call this.
 */
export async function startActors(rt: ActorHost, names?: readonly string[], opts: StartActorsOptions = {}): Promise<RunningActors> {
  return (await prepareActors(rt, names, opts)).start();
}

async function startPrepared(
  rt: ActorHost,
  selected: readonly ActorSettings[],
  sources: ReadonlyMap<string, HandlerSource>,
  jsm: JetStreamManager,
  opts: StartActorsOptions,
): Promise<RunningActors> {
  const presence = await openPresenceBucket(rt.nc, rt.config.store.replicas);
  const bus = new EventBus(rt.nc, { maxMsgSize: rt.config.store.max_msg_size, notifications: notificationTypesOf(rt.config) });
  const workers: ActorWorker[] = [];
  const stopLag = rt.metrics.addLagSampler(actorLagSampler(jsm, selected, rt.metrics));
  const stopAll = async (graceMs = DEFAULT_GRACE_MS, cutShort?: Promise<unknown>): Promise<StopResult> => {
    stopLag();
    const results = await Promise.all(workers.map((w) => w.stop(graceMs, cutShort)));
    await bus.close().catch(() => undefined);
    const abandoned = results.reduce((n, r) => n + r.abandoned, 0);
    return { finished: abandoned === 0, abandoned };
  };
  let timers: Promise<Timers> | undefined;
  const stateDeps = {
    nc: rt.nc,
    replicas: rt.config.store.replicas,
    publishEvent: (e: Event) => bus.publishEvent(e),
    timers: () => (timers ??= Timers.open(rt.nc, { replicas: rt.config.store.replicas })),
    schemas: new StateSchemas(join(rt.projectDir, "schemas", "state")),
  };
  try {
    for (const configured of selected) {
      const source = sources.get(configured.name)!;
      let settings = configured;
      let stateful: HandlerFn | undefined;
      if (isStatefulDefinition(source)) ({ handler: stateful, settings } = await attachState(configured, source, stateDeps));
      const count = opts.replicas ?? settings.replicas;
      for (let i = 0; i < count; i++) {
        const worker = new ActorWorker({
          nc: rt.nc,
          settings,
          handler: compose(stateful ?? resolveHandler(rt.container, settings, source), ...(opts.use ?? [])),
          logger: rt.logger,
          metrics: rt.metrics,
          publishEvent: (e) => bus.publishEvent(e),
          storeReplicas: rt.config.store.replicas,
          presence,
          expiresMs: opts.expiresMs,
          storeStream: rt.config.store.stream,
        });
        workers.push(worker);
        await worker.start();
      }
    }
  } catch (err) {
    await stopAll(0);
    throw err;
  }
  return { workers, stop: stopAll };
}
