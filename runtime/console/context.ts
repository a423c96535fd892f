import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { liveConfig, type LiveConfig } from "../operations/live-config.ts";

/** What every API handler may use: the connection, the local config, the logger, and the admin token. */
export type ConsoleDeps = Readonly<{
  nc: NatsConnection;
  /** The local config: store and connection settings; actors and routes come from the live revision. */
  config: JetbusConfig;
  logger: Logger;
  /** Allows replay, apply and rollback; undefined: read-only. */
  token?: string;
}>;

export class ConsoleContext {
  private jsmPromise?: Promise<JetStreamManager>;
  constructor(readonly deps: ConsoleDeps) {}

  get nc(): NatsConnection {
    return this.deps.nc;
  }

  jsm(): Promise<JetStreamManager> {
    this.jsmPromise ??= jetstreamManager(this.deps.nc);
    return this.jsmPromise;
  }

  /** The config the running routers use (KV jetbus-config), else the local one. */
  async live(): Promise<LiveConfig> {
    return liveConfig(await this.jsm(), this.deps.config);
  }
}
