import { startRuntime, type Runtime, type RuntimeOptions } from "./bootstrap.ts";
import { registerBuiltinHandlers } from "./builtin-handlers.ts";
import { startServices, type ServiceSelection, type Services } from "./services.ts";
import { EventBus } from "../store/bus.ts";
import { notificationTypesOf } from "../notify/declared.ts";
import { EventStore } from "../store/queries.ts";
import { AggregateStore, type ExecuteOptions, type ExecuteResult } from "../aggregate/aggregate-store.ts";
import type { Aggregate, AggregateEvent } from "../aggregate/define.ts";
import { DurabilityMode } from "./startup-durability.ts";

export type StartJetbusOptions = RuntimeOptions &
  ServiceSelection &
  Readonly<{
    /** Default `source` of the events `bus` publishes, e.g. the service's name. */
    source?: string;
  }>;

/** jetbus running inside a Node process: its connection, a publisher, the store, and what it started. */
export type Jetbus = Readonly<{
  runtime: Runtime;
  bus: EventBus;
  store: EventStore;
  /** Event-sourced entities on this store: `aggregates.history(...)` (time travel), `aggregates.load(...)`. */
  aggregates: AggregateStore;
  /** Runs a command on an aggregate's entity (AggregateStore.execute). */
  execute<S, C, E extends AggregateEvent>(
    aggregate: Aggregate<S, C, E>,
    id: string,
    command: C,
    opts?: ExecuteOptions,
  ): Promise<ExecuteResult<S, E>>;
  services: Services;
  /** Stops actors (in-flight handlings finish within `graceMs`), and router (which indexes), then the connection (and the embedded server if one was started). */
  stop(graceMs?: number): Promise<void>;
}>;

/**
 * Embeds jetbus in an existing service: loads the config, connects (an embedded nats-server when
 * no servers are named), and starts the router (which writes the indexes) and the actors in this process, as
 * `jetbus up` does. `actors: []` and `router: false` leave parts to other processes; `indexer: false` keeps no index.
 * Nothing here installs signal handlers: the host service decides when to call `stop()`.
 */
export async function startJetbus(opts: StartJetbusOptions = {}): Promise<Jetbus> {
  const runtime = await startRuntime({ durability: DurabilityMode.Warn, ...opts, name: opts.name ?? "jetbus-embedded" });
  let services: Services;
  try {
    await registerBuiltinHandlers();
    services = await startServices(runtime, {
      indexer: opts.indexer,
      router: opts.router,
      actors: opts.actors,
      projections: opts.projections,
      http: opts.http ?? false,
    });
  } catch (err) {
    await runtime.dispose();
    throw err;
  }
  const bus = new EventBus(runtime.nc, {
    source: opts.source,
    maxMsgSize: runtime.config.store.max_msg_size,
    notifications: notificationTypesOf(runtime.config),
  });
  const store = new EventStore(runtime.nc, { stream: runtime.config.store.stream });
  const aggregates = new AggregateStore(runtime.nc, {
    stream: runtime.config.store.stream,
    source: opts.source,
    maxMsgSize: runtime.config.store.max_msg_size,
    snapshotReplicas: runtime.config.store.replicas,
    logger: runtime.logger,
  });
  let stopped: Promise<void> | undefined;
  return {
    runtime,
    bus,
    store,
    aggregates,
    execute: (aggregate, id, command, o) => aggregates.execute(aggregate, id, command, o),
    services,
    stop(graceMs?: number) {
      stopped ??= (async () => {
        await bus.close().catch(() => undefined);
        await services.stop(graceMs);
        await runtime.dispose();
      })();
      return stopped;
    },
  };
}
