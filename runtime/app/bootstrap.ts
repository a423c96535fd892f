import type { DependencyContainer } from "tsyringe";
import { dirname, resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { loadConfig } from "../config/load.ts";
import { withEnvironment } from "../config/env.ts";
import { connectNats, ONE_SHOT_CONNECT_TIMEOUT_MS, waitForJetStream } from "../nats/connect.ts";
import { logConnection } from "../nats/connection-log.ts";
import { ConnectionState } from "../nats/connection-state.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { registerProcessMetrics } from "../observability/process-metrics.ts";
import type { EmbeddedServer } from "../nats/embedded.ts";
import { createLogger, type Logger } from "../log.ts";
import { Tokens } from "./tokens.ts";
import { childContainer } from "./container.ts";
import { Metrics } from "../observability/metrics.ts";
import { Health } from "../observability/health.ts";
import { checkDurabilityAtStartup, DurabilityMode } from "./startup-durability.ts";
import { startWithRetry } from "./startup-retry.ts";
import type { ActorModules } from "../actor/state/ordering-default.ts";

/** One wait for the JetStream API of a long-running process; each one that times out is a log line. */
const JETSTREAM_ATTEMPT_MS = 5_000;

export type RuntimeOptions = Readonly<{
  configPath?: string;
  /** --servers; wins over NATS_URL, which wins over the config's nats.servers. */
  servers?: string;
  name?: string;
  logger?: Logger;
  /** An already-loaded config (tests); skips reading a file. */
  config?: JetbusConfig;
  /** Base of relative actor `module` paths; default: the config file's directory, else the working directory. */
  projectDir?: string;
  /** The start-up durability check: off for one-shot commands (the default), warn or strict for long-running processes. */
  durability?: DurabilityMode;
  /**
   * Long-running processes (up, actor, router) wait for a first connection as long as it takes,
   * logging each attempt; one-shot commands (the default) give up after a few seconds.
   */
  waitForServer?: boolean;
  /** Ask the JetStream API once before returning, waiting for a fresh cluster's meta leader (default true). */
  jetStreamCheck?: boolean;
  /**
   * Read the actors' modules so that a stateful actor without `ordered` is ordered on its state key
   * (resolveStateOrdering): strict for `up` (a module that fails stops it), lenient for a router (that
   * actor keeps its settings as written, with a warning). Off by default: one-shot commands load no actor code.
   */
  actorModules?: ActorModules;
  /** Long-running processes: how long start-up steps that time out are retried (startWithRetry). */
  startupGiveUpMs?: number;
}>;

/** Everything a jetbus process holds: config, connection, logger, and the embedded server if it started one. */
export type Runtime = Readonly<{
  config: JetbusConfig;
  nc: NatsConnection;
  /** Whether the connection is up right now (the client buffers publishes while it reconnects). */
  connection: ConnectionState;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  container: DependencyContainer;
  embedded?: EmbeddedServer;
  servers: string[];
  /** Directory relative actor `module` paths start from: the config file's. */
  projectDir: string;
  dispose(): Promise<void>;
}>;

export function resolveServers(opts: RuntimeOptions, config: JetbusConfig): string[] {
  const raw = opts.servers ?? process.env.NATS_URL;
  if (raw)
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  return config.nats.servers;
}

/**
 * Loads config, connects (starting an embedded nats-server when no servers are named), and
 * registers both in a child container. `dispose()` drains the connection and stops the server.
 */
export async function startRuntime(opts: RuntimeOptions = {}): Promise<Runtime> {
  const projectDir = opts.projectDir ?? (opts.configPath ? dirname(resolve(opts.configPath)) : process.cwd());
  let config = opts.config ?? withEnvironment(loadConfig(opts.configPath));
  const logger = opts.logger ?? createLogger({ level: config.observability.log_level });
  if (opts.actorModules) {
    // imported here: a one-shot command never loads the module loader
    const { resolveStateOrdering } = await import("../actor/state/ordering-default.ts");
    config = await resolveStateOrdering(config, projectDir, {
      mode: opts.actorModules,
      source: opts.configPath,
      onSkipped: (actor, reason) =>
        logger.warn({ actor, reason }, "actor settings used as written (its module could not tell whether it keeps state)"),
    });
  }
  let servers = resolveServers(opts, config);
  let embedded: EmbeddedServer | undefined;
  if (servers.length === 0) {
    // imported here: launching a nats-server is code a command given --servers or NATS_URL never runs
    const { useEmbeddedServer } = await import("../nats/embedded.ts");
    embedded = await useEmbeddedServer(config.nats.embedded.store_dir, config.nats.embedded.port);
    servers = [embedded.url];
    if (embedded.server) logger.info({ url: embedded.url, store: embedded.server.storeDir }, "started embedded nats-server");
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats({
      ...config.nats,
      servers,
      name: opts.name ?? "jetbus",
      firstConnectTimeoutMs: opts.waitForServer ? undefined : ONE_SHOT_CONNECT_TIMEOUT_MS,
      // a one-shot command reports the outcome once (NatsUnreachableError); a worker logs every attempt
      onRetry: (a) =>
        logger[opts.waitForServer ? "warn" : "debug"](
          { servers: a.servers, attempt: a.attempt, err: a.cause, retryInMs: a.retryInMs },
          "no NATS server answered; retrying",
        ),
    });
    logConnection(nc, logger, servers);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  try {
    const ready = async () => {
      // a long-running process asks again every few seconds, saying so (a cluster electing its meta leader)
      if (opts.jetStreamCheck !== false) await waitForJetStream(nc, opts.waitForServer ? JETSTREAM_ATTEMPT_MS : undefined);
      await checkDurabilityAtStartup(nc, config, logger, opts.durability ?? DurabilityMode.Off);
    };
    if (opts.waitForServer) await startWithRetry(logger, opts.name ?? "jetbus", ready, { giveUpMs: opts.startupGiveUpMs });
    else await ready();
  } catch (err) {
    await nc.close().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
  const metrics = new Metrics({ defaultMetrics: true });
  const health = new Health(nc);
  const connection = new ConnectionState(nc);
  // with the instruments, so a command that counts nothing never loads prom-client (metrics.ts)
  metrics.whenBuilt((m) => registerProcessMetrics(m, { connection, jsm: () => jetstreamManager(nc, { checkAPI: false }) }));
  // built when first asked for (starting actors): a one-shot command never loads tsyringe
  let container: DependencyContainer | undefined;
  const containerOf = (): DependencyContainer => {
    if (container) return container;
    container = childContainer();
    container.register(Tokens.Config, { useValue: config });
    container.register(Tokens.Nats, { useValue: nc });
    container.register(Tokens.Logger, { useValue: logger });
    container.register(Tokens.Metrics, { useValue: metrics });
    container.register(Tokens.Health, { useValue: health });
    return container;
  };
  let disposed = false;
  return {
    config,
    nc,
    connection,
    logger,
    metrics,
    health,
    get container() {
      return containerOf();
    },
    embedded,
    servers,
    projectDir,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await container?.dispose();
      // a drain waits for the server to confirm; with no server (or once it goes away meanwhile)
      // there is nothing left to confirm, and the client would wait for a reconnect
      if (connection.connected)
        await unlessCutShort(
          nc.drain().catch(() => nc.close()),
          connection.lost(),
        );
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
      await embedded?.stop();
    },
  };
}
