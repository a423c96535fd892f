import { hostname } from "node:os";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { openPresenceBucket } from "../actor/presence.ts";

export type PresenceValue = Readonly<{
  role: string;
  name: string;
  replica: string;
  host: string;
  pid: number;
  startedAt: string;
  inFlight: number;
  configRevision?: number;
}>;

/** A replica id usable as one KV key token. */
export function newReplicaId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-");
  return `${host}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Heartbeats into KV jetbus-presence under `<role>.<name>.<replica>` (contracts.md), so
 * `jetbus status` lists live replicas and the config revision each runs. `beat()` writes at once
 * (after a config switch); failures are logged, never fatal: presence is informational.
 */
export class Presence {
  private kv?: KV;
  private timer?: NodeJS.Timeout;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly nc: NatsConnection,
    private readonly key: string,
    private readonly value: () => Omit<PresenceValue, "host" | "pid" | "startedAt">,
    private readonly logger: Logger,
    private readonly replicas = 1,
    private readonly everyMs = 2000,
  ) {}

  async start(): Promise<void> {
    try {
      this.kv = await openPresenceBucket(this.nc, this.replicas);
    } catch (err) {
      this.logger.warn({ err }, "presence bucket unavailable; heartbeats disabled");
      return;
    }
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.everyMs);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    if (!this.kv) return;
    const v: PresenceValue = { ...this.value(), host: hostname(), pid: process.pid, startedAt: this.startedAt };
    try {
      await this.kv.put(this.key, JSON.stringify(v));
    } catch (err) {
      this.logger.debug({ err }, "presence heartbeat failed");
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.kv?.delete(this.key).catch(() => undefined);
  }
}
