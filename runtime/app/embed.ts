import type { ActorDefinition, ActorMiddleware, StatefulActorDefinition } from "../actor/define.ts";
import type { HandlerSource } from "../actor/registry.ts";
import type { HandlerClass } from "../actor/types.ts";
import { configFrom } from "../config/load.ts";
import type { JetbusConfig, JetbusConfigInput } from "../config/types.ts";
import type { EventData, EventType } from "../events/types.ts";
import { UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  AggregateStore,
  type EntityHistory,
  type ExecuteOptions,
  type ExecuteResult,
  type PointInTime,
} from "../aggregate/aggregate-store.ts";
import type { Aggregate, AggregateEvent } from "../aggregate/define.ts";
import { notificationTypesOf } from "../config/notifications.ts";
import { ProjectionReader, type ProjectionEntry } from "../projection/reader.ts";
import { EventBus } from "../store/bus.ts";
import { EventStore as StoreReader } from "../store/queries.ts";
import type { HistoryFilter, PublishOptions, PublishResult, StoredEvent, TypeQuery } from "../store/types.ts";
import { startRuntime, type Runtime } from "./bootstrap.ts";
import { startServices, type Services } from "./services.ts";
import { DurabilityMode } from "./startup-durability.ts";

/** Where jetbus finds its config and servers, and what this process brings: its handlers and middleware. */
export type JetbusOptions = Readonly<{
  /**
   * A config file; relative actor `module` paths start from its directory. Default:
   * `jetbus.config.json` in the working directory when there is one, else the built-in defaults.
   */
  configPath?: string;
  /**
   * The config as an object, what `jetbus.config.json` would hold, instead of a file: validated and
   * completed with defaults as a file is (a `ConfigError` lists every problem). Wins over `configPath`.
   */
  config?: JetbusConfigInput;
  /** NATS servers, comma-separated; wins over `NATS_URL` and `nats.servers`. None anywhere: an embedded nats-server. */
  servers?: string;
  /** Default `source` of the events `publish` stores, e.g. the service's name. */
  source?: string;
  /** The connection's name as the server shows it (default `jetbus-embedded`). */
  name?: string;
  /**
   * Handlers of the configured actors that name no `module`, by the name config gives them
   * (`actors[].handler`, default the actor's name): `defineActor` results or handler classes.
   * Only these and the actors' modules are known: jetbus registers no handler of its own here.
   */
  handlers?: Readonly<Record<string, ActorDefinition | StatefulActorDefinition | HandlerClass>>;
  /**
   * Middleware around the handler of every actor this process runs, the first listed outermost
   * (and outside an actor's own); the worker's policies (retries, dead letters, idempotency,
   * timeout) see what it does as the handler's outcome.
   */
  use?: readonly ActorMiddleware[];
  /** Base directory of relative actor `module` paths (default: the config file's directory, else the working directory). */
  projectDir?: string;
  /** The logger for jetbus's own lines and `ctx.logger` (a pino logger; default: one at `observability.log_level`). */
  logger?: Logger;
}>;

/** What `start()` runs in this process; each part left out runs here. */
export type StartOptions = Readonly<{
  /** Names of the configured actors to run here: default every one, `[]` none (they run in other processes). */
  actors?: readonly string[];
  /** The router (and the timer relay of stateful actors): default `true`. */
  router?: boolean;
  /** Whether the router writes the id and correlation indexes, which by-id and by-correlation queries read, as it routes: default `true`. */
  indexer?: boolean;
  /** Names of the configured projections to keep live here: default every one, `[]` none. */
  projections?: readonly string[];
  /** Serve `/metrics`, `/healthz`, `/readyz` and the console on `observability.http_port`: default `false`. */
  http?: boolean;
}>;

/** Queries of the event store: by id, sequence, type, correlation id and time. */
export interface EventStore {
  /** The event with this id; a `NotFoundError` when the store does not hold it (never stored, or past retention). */
  getById(id: string): Promise<StoredEvent>;
  /** The event with this id, or `undefined`. */
  findById(id: string): Promise<StoredEvent | undefined>;
  /** The event at a store sequence, or `undefined` when it is gone or does not decode. */
  getBySeq(seq: number): Promise<StoredEvent | undefined>;
  /** One page of events of a type in stream order (100 by default); pass `from: last.seq + 1` for the next page. */
  getByType(type: string, query?: TypeQuery): Promise<StoredEvent[]>;
  /** Every event of a correlation the store still holds, in stream order. */
  getByCorrelationId(correlationId: string, query?: Readonly<{ since?: Date; until?: Date; type?: string }>): Promise<StoredEvent[]>;
  /** Events in stream order, streamed (nothing is held beyond one batch): by correlation id, type and time range. */
  history(filter?: HistoryFilter): AsyncIterable<StoredEvent>;
}

/** jetbus inside a Node process: a connection, a publisher, the store's queries, and what it runs. */
export type Jetbus = Readonly<{
  /** The config in use, every default filled in. */
  config: JetbusConfig;
  /**
   * Validates (against `schemas/events/<type>.json` when it exists) and stores one event; resolves
   * with its id and store sequence. The same id again inside the store's duplicate window is
   * stored once and answered `duplicate: true`.
   */
  publish<K extends EventType>(type: K, data: EventData<K>, opts?: PublishOptions): Promise<PublishResult>;
  /** Queries of the event store. */
  store: EventStore;
  /**
   * Runs a command on an aggregate's entity: loads it, `decide`s, and appends the events only if no
   * one appended to the entity since (retried on fresh state; `AggregateConflictError` past the retries).
   */
  execute<S, C, E extends AggregateEvent>(
    aggregate: Aggregate<S, C, E>,
    id: string,
    command: C,
    opts?: ExecuteOptions,
  ): Promise<ExecuteResult<S, E>>;
  /** An entity's state now or as of a point (`{ at }`, `{ seq }`, `{ version }`), with the events that made it. */
  history<S, C, E extends AggregateEvent>(aggregate: Aggregate<S, C, E>, id: string, at?: PointInTime): Promise<EntityHistory<S, E>>;
  /** One key of a projection's read model (the version readers use), or `undefined`. */
  projection<V>(name: string, key: string): Promise<ProjectionEntry<V> | undefined>;
  /** Starts the router (which writes the indexes) and the actors in this process, as `jetbus up` does (see StartOptions). Once. */
  start(parts?: StartOptions): Promise<void>;
  /**
   * Stops what `start()` started (in-flight handlings finish within `graceMs`, 30 s by default),
   * then closes the connection and the embedded nats-server if one was started. Installs no signal
   * handler: the host service decides when to call it.
   */
  stop(graceMs?: number): Promise<void>;
}>;

/**
 * Embeds jetbus in a Node service: loads the config, connects (to an embedded nats-server when no
 * servers are named), and returns `publish`, the store's queries, `start` and `stop`. Nothing runs
 * until `start()`: a process that only publishes and queries never calls it.
 */
export async function createJetbus(opts: JetbusOptions = {}): Promise<Jetbus> {
  // a copy: validation fills defaults in place, and the caller's object stays as written
  const config = opts.config === undefined ? undefined : configFrom(structuredClone(opts.config), "createJetbus({ config })");
  const runtime = await startRuntime({
    configPath: opts.configPath,
    config,
    servers: opts.servers,
    name: opts.name ?? "jetbus-embedded",
    logger: opts.logger,
    projectDir: opts.projectDir,
    durability: DurabilityMode.Warn,
  });
  return embedded(runtime, opts);
}

function embedded(runtime: Runtime, opts: JetbusOptions): Jetbus {
  const bus = new EventBus(runtime.nc, {
    source: opts.source,
    maxMsgSize: runtime.config.store.max_msg_size,
    notifications: notificationTypesOf(runtime.config),
  });
  const store = new StoreReader(runtime.nc, { stream: runtime.config.store.stream });
  const aggregates = new AggregateStore(runtime.nc, {
    stream: runtime.config.store.stream,
    source: opts.source,
    maxMsgSize: runtime.config.store.max_msg_size,
    snapshotReplicas: runtime.config.store.replicas,
    logger: runtime.logger,
  });
  const readers = new Map<string, Promise<ProjectionReader<unknown>>>();
  const handlers = new Map<string, HandlerSource>(Object.entries(opts.handlers ?? {}));
  let started: Promise<Services> | undefined;
  let stopped: Promise<void> | undefined;
  return {
    config: runtime.config,
    publish: (type, data, o) => bus.publish(type, data, o),
    store,
    execute: (aggregate, id, command, o) => aggregates.execute(aggregate, id, command, o),
    history: (aggregate, id, at) => aggregates.history(aggregate, id, at),
    async projection<V>(name: string, key: string) {
      let reader = readers.get(name);
      if (!reader) readers.set(name, (reader = ProjectionReader.open<unknown>(runtime.nc, name)));
      return (await reader).get(key) as Promise<ProjectionEntry<V> | undefined>;
    },
    async start(parts: StartOptions = {}) {
      if (stopped) throw new UsageError("start() after stop(): create another jetbus");
      if (started) throw new UsageError("start() was called already: stop() first");
      started = startServices(
        runtime,
        {
          indexer: parts.indexer,
          router: parts.router,
          actors: parts.actors,
          projections: parts.projections,
          http: parts.http ?? false,
        },
        { handlers, use: opts.use },
      );
      try {
        await started;
      } catch (err) {
        started = undefined; // startServices stopped what it had started
        throw err;
      }
    },
    stop(graceMs?: number) {
      stopped ??= (async () => {
        await bus.close().catch(() => undefined);
        for (const r of readers.values()) (await r.catch(() => undefined))?.close();
        const services = await started?.catch(() => undefined);
        await services?.stop(graceMs);
        await runtime.dispose();
      })();
      return stopped;
    },
  };
}
