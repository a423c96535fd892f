import { isActorDefinition, isStatefulDefinition } from "../actor/define.ts";
import type { HandlerFn } from "../actor/types.ts";
import { handlerSourceFor } from "../actor/module-loader.ts";
import type { HandlerSource } from "../actor/registry.ts";
import { resolveHandler } from "../actor/resolve.ts";
import { selectActors, type ActorHost, type RunningActors } from "../actor/start.ts";
import { DEFAULT_GRACE_MS } from "../actor/worker.ts";
import type { JetbusConfig } from "../config/types.ts";
import { ConfigStore } from "../routing/config-store.ts";
import { EventBus } from "../store/bus.ts";
import { EventSchemas } from "../store/schemas.ts";
import { notificationTypesOf } from "../config/notifications.ts";
import { NotificationSubscriber } from "./subscriber.ts";

export type RunningNotifications = Readonly<{
  subscribers: readonly NotificationSubscriber[];
  /** Unsubscribes every actor, lets what was received finish within `graceMs`; returns how many were unfinished (lost). */
  stop(graceMs?: number, cutShort?: Promise<unknown>): Promise<number>;
}>;

export type StartNotificationsOptions = Readonly<{
  /** Workers per actor in this process (its handler slots are concurrency x this); defaults to each actor's `replicas`. */
  replicas?: number;
  /** Loads actor modules under this version (`up --watch` after an edit). */
  moduleVersion?: number;
  /** Handlers by name for actors that name no module (an embedding service's `handlers`), as startActors takes them. */
  handlers?: ReadonlyMap<string, HandlerSource>;
}>;

/**
 * Subscribes the named actors (default every configured one) to the notifications their rules
 * route to them, beside their workers: `jetbus up`, `jetbus actor` and startJetbus call this after
 * startActors, with the same ActorHost (app/bootstrap.ts's Runtime is one). A stateful actor gets
 * none: its state commits are tied to store sequences a notification does not have. The rules are
 * the live config revision's when one is stored (KV jetbus-config, followed as routers follow it),
 * else the file's.
 */
export async function startNotifications(
  rt: ActorHost,
  names?: readonly string[],
  opts: StartNotificationsOptions = {},
): Promise<RunningNotifications> {
  const selected = selectActors(rt.config.actors, names);
  const live = await liveConfig(rt);
  const config = live?.config ?? rt.config;
  const bus = new EventBus(rt.nc, { maxMsgSize: rt.config.store.max_msg_size, notifications: notificationTypesOf(rt.config) });
  const schemas = new EventSchemas();
  const subscribers: NotificationSubscriber[] = [];
  let watcher: { stop(): void } | undefined;
  const stop = async (graceMs = DEFAULT_GRACE_MS, cutShort?: Promise<unknown>): Promise<number> => {
    watcher?.stop();
    const unfinished = await Promise.all(subscribers.map((s) => s.stop(graceMs, cutShort)));
    await bus.close(cutShort).catch(() => undefined);
    return unfinished.reduce((a, b) => a + b, 0);
  };
  try {
    for (const settings of selected) {
      const source = await handlerSourceFor(settings, rt.projectDir, { version: opts.moduleVersion }, opts.handlers);
      if (isStatefulDefinition(source)) {
        rt.logger.debug(
          { actor: settings.name },
          "stateful actor: not subscribed to notifications (no store sequence to commit state with)",
        );
        continue;
      }
      const sub = new NotificationSubscriber({
        nc: rt.nc,
        settings,
        // a defineActor handler is called as it is: one that returns without a promise is done in the same turn
        handler: isActorDefinition(source) ? (source.handle as HandlerFn) : resolveHandler(rt.container, settings, source),
        config,
        maxPending: rt.config.notifications.max_pending,
        concurrency: settings.concurrency * (opts.replicas ?? settings.replicas),
        schemas,
        logger: rt.logger,
        metrics: rt.metrics,
        maxBytes: rt.config.store.max_msg_size,
        ctx: {
          actor: settings.name,
          replica: `${rt.nc.info?.client_id ?? process.pid}`,
          options: settings.options,
          logger: rt.logger,
          publishEvent: (e) => bus.publishEvent(e),
        },
      });
      await sub.start();
      subscribers.push(sub);
      rt.logger.debug({ actor: settings.name, subjects: sub.subjects }, "listening for notifications");
    }
    if (live && subscribers.length > 0)
      watcher = await live.store
        .watch(
          (c) => {
            if (c.revision <= live.revision) return;
            live.revision = c.revision;
            for (const s of subscribers)
              s.update(c.config).catch((err: unknown) =>
                rt.logger.error({ actor: s.actor, err: (err as Error).message }, "could not switch notification rules"),
              );
          },
          (revision, err) =>
            rt.logger.error({ revision, err: (err as Error).message }, "stored config revision is invalid; keeping the notification rules"),
        )
        .catch((err: unknown) => {
          rt.logger.warn({ err: (err as Error).message }, "cannot watch the live config: notifications keep the rules they started with");
          return undefined;
        });
  } catch (err) {
    await stop(0);
    throw err;
  }
  return { subscribers, stop };
}

/** The stored config revision and its store, when this process may read one; undefined otherwise (the file's rules then). */
async function liveConfig(rt: ActorHost): Promise<{ store: ConfigStore; revision: number; config: JetbusConfig } | undefined> {
  try {
    const store = await ConfigStore.open(rt.nc, { replicas: rt.config.store.replicas });
    const current = await store.current();
    return current ? { store, revision: current.revision, config: current.config } : { store, revision: 0, config: rt.config };
  } catch (err) {
    rt.logger.debug({ err: (err as Error).message }, "no live config to read: notifications route with the file's rules");
    return undefined;
  }
}

/**
 * Running actors with their notification subscriptions: what `jetbus up`, `jetbus actor` and
 * startJetbus run. Stopping stops the notifications first (nothing new is taken), then the workers.
 */
export async function withNotifications(
  rt: ActorHost,
  actors: RunningActors,
  names?: readonly string[],
  opts: StartNotificationsOptions = {},
): Promise<RunningActors & { notifications: RunningNotifications }> {
  let notifications: RunningNotifications;
  try {
    notifications = await startNotifications(rt, names, opts);
  } catch (err) {
    await actors.stop(0);
    throw err;
  }
  return {
    ...actors,
    notifications,
    async stop(graceMs, cutShort) {
      await notifications.stop(graceMs, cutShort);
      return actors.stop(graceMs, cutShort);
    },
  };
}
