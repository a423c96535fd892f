import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import { Buckets } from "../topology.ts";
import type { Logger } from "../log.ts";
import { ensureBucket } from "../nats/buckets.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import type { PresenceState, PresenceValue } from "./types.ts";

export const PRESENCE_TTL_MS = 10_000;
export const HEARTBEAT_EVERY_MS = 2_000;

export function presenceKey(role: PresenceValue["role"], name: string, replica: string): string {
  return `${role}.${name}.${replica}`;
}

/** A replica id usable as one KV key token. */
export function newReplicaId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-");
  return `${host}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The presence bucket: entries vanish ~10s after their replica stops heartbeating. */
export function openPresenceBucket(nc: NatsConnection, replicas: number): Promise<KV> {
  return ensureBucket(nc, Buckets.Presence, { history: 1, ttl: PRESENCE_TTL_MS, replicas });
}

/**
 * Heartbeats one replica into `jetbus-presence` so `jetbus status` lists live replicas (and the
 * config revision a router runs). Presence is informational: an unavailable bucket or a missed
 * beat is logged, never fatal, and the next tick tries again.
 */
export class Heartbeat {
  private kv?: KV;
  private timer?: NodeJS.Timeout;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly bucket: () => Promise<KV>,
    private readonly key: string,
    private readonly state: () => PresenceState,
    private readonly logger: Logger,
    private readonly everyMs = HEARTBEAT_EVERY_MS,
  ) {}

  async start(): Promise<void> {
    try {
      this.kv = await this.bucket();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "presence bucket unavailable; heartbeats disabled");
      return;
    }
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.everyMs);
    this.timer.unref();
  }

  /** Writes at once (a router calls it after switching config revision). */
  async beat(): Promise<void> {
    if (!this.kv) return;
    const value: PresenceValue = { ...this.state(), host: hostname(), pid: process.pid, startedAt: this.startedAt };
    try {
      await this.kv.put(this.key, JSON.stringify(value));
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, "presence heartbeat missed");
    }
  }

  /**
   * Stops beating and removes the entry, so status drops the replica at once. Not past `cutShort`
   * (the connection is gone): the delete would wait out its request timeout (5 s), and the entry
   * expires by itself PRESENCE_TTL_MS after the last beat.
   */
  async stop(cutShort?: Promise<unknown>): Promise<void> {
    clearInterval(this.timer);
    if (this.kv)
      await unlessCutShort(
        this.kv.delete(this.key).catch(() => undefined),
        cutShort,
      );
  }
}
