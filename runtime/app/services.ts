import type { Runtime } from "./bootstrap.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { prepareActors, type PreparedActors, type RunningActors, type StartActorsOptions } from "../actor/start.ts";
import { withNotifications } from "../notify/start.ts";
import { startProjections, type RunningProjections } from "../projection/start.ts";
import { ensureStore } from "../store/stream.ts";
import { startRouter, type RouterHandle } from "../routing/router.ts";
import type { TimerRelay } from "../actor/state/timer-relay.ts";
import { startTimerRelay } from "./timer-relay.ts";
import { readinessGate } from "../observability/health.ts";
import type { ObservabilityServer } from "../observability/http.ts";
import { serveHttpWithConsole } from "./console.ts";
import type { ConsoleHandler } from "../console/handler.ts";

export type ServiceSelection = Readonly<{
  /** The router writes the store's id and correlation indexes as it routes (default true; nothing to run without a router). */
  indexer?: boolean;
  router?: boolean;
  /** Actor names to run; undefined runs every configured actor, [] none. */
  actors?: readonly string[];
  /** Projection names to keep live; undefined runs every configured projection, [] none. */
  projections?: readonly string[];
  /** Serve /metrics, /healthz and /readyz on observability.http_port (and the console at /, unless observability.console.enabled is false). */
  http?: boolean;
}>;

/** The long-running parts of a jetbus process, started together and stopped in reverse order. */
export type Services = Readonly<{
  router?: RouterHandle;
  actors?: RunningActors;
  projections?: RunningProjections;
  http?: ObservabilityServer;
  console?: ConsoleHandler;
  /** `cutShort` (the connection is gone) ends every wait: the actors' grace period, the router's drain. */
  stop(graceMs?: number, cutShort?: Promise<unknown>): Promise<void>;
}>;

/** What the actors of this process get besides their config: their handlers by name and middleware (see StartActorsOptions). */
export type ActorExtras = Pick<StartActorsOptions, "handlers" | "use">;

/**
 * Starts the selected parts in this process. Registers no handler: the caller brings them
 * (`registerBuiltinHandlers` for the CLI's `up`, `extras.handlers` for an embedding service).
 */
export async function startServices(rt: Runtime, sel: ServiceSelection = {}, extras: ActorExtras = {}): Promise<Services> {
  let router: RouterHandle | undefined;
  let actors: RunningActors | undefined;
  let projections: RunningProjections | undefined;
  let http: ObservabilityServer | undefined;
  let ui: ConsoleHandler | undefined;
  let timerRelay: TimerRelay | undefined;
  const ready = readinessGate(rt.health, "services");
  const stop = async (graceMs?: number, cutShort?: Promise<unknown>) => {
    ready.close();
    await projections?.stop();
    await actors?.stop(graceMs, cutShort);
    await timerRelay?.stop(cutShort);
    await router?.stop(cutShort);
    ui?.close();
    await http?.close();
    rt.health.unregister("services");
  };
  try {
    if (sel.http) {
      ({ http, ui } = await serveHttpWithConsole(rt));
    }
    let prepared: PreparedActors | undefined;
    if (sel.actors === undefined || sel.actors.length > 0) {
      // the store first (a direct actor's durable reads it), as the router would create it
      if (sel.router ?? true) await ensureStore(await jetstreamManager(rt.nc), rt.config.store);
      // before the router routes: an actor whose durables change layout files its waiting copies into
      // their partitions first, so no copy the router publishes now lands in front of an older one
      prepared = await prepareActors(rt, sel.actors, extras);
    }
    if (sel.router ?? true) {
      router = await startRouter({ nc: rt.nc, config: rt.config, logger: rt.logger, metrics: rt.metrics }, { index: sel.indexer ?? true });
      timerRelay = await startTimerRelay(rt);
    }
    if (prepared) actors = await withNotifications(rt, await prepared.start(), sel.actors, { handlers: extras.handlers });
    if (sel.projections === undefined || sel.projections.length > 0) projections = await startProjections(rt, sel.projections);
    ready.open();
  } catch (err) {
    await stop(0).catch(() => undefined);
    throw err;
  }
  return { router, actors, projections, http, console: ui, stop };
}
