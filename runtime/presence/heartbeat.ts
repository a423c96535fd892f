import { hostname } from "node:os";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import { Buckets } from "../topology.ts";
import type { Logger } from "../log.ts";
import { ensureBucket } from "../nats/buckets.ts";
import { unlessCutShort } from "../nats/cut-short.ts";
import { HEARTBEAT_EVERY_MS, processGone, thisPlace } from "./liveness.ts";
import type { PresenceState, PresenceValue } from "./types.ts";

export { HEARTBEAT_EVERY_MS };
export const PRESENCE_TTL_MS = 10_000;

/** The manager each opened presence bucket was opened with: a starting heartbeat lists its actor's keys with it. */
const managers = new WeakMap<KV, JetStreamManager>();

export function presenceKey(role: PresenceValue["role"], name: string, replica: string): string {
  return `${role}.${name}.${replica}`;
}

/** A replica id usable as one KV key token. */
export function newReplicaId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-");
  return `${host}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The presence bucket: entries vanish ~10s after their replica stops heartbeating. */
export async function openPresenceBucket(nc: NatsConnection, replicas: number): Promise<KV> {
  const kv = await ensureBucket(nc, Buckets.Presence, { history: 1, ttl: PRESENCE_TTL_MS, replicas });
  managers.set(kv, await jetstreamManager(nc, { checkAPI: false }));
  return kv;
}

function parse(bytes: Uint8Array): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
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
    await this.removeGone(this.kv);
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.everyMs);
    this.timer.unref();
  }

  /** Writes at once (a router calls it after switching config revision). */
  async beat(): Promise<void> {
    if (!this.kv) return;
    const { pidns } = thisPlace();
    const value: PresenceValue = {
      ...this.state(),
      host: hostname(),
      pid: process.pid,
      ...(pidns ? { pidns } : {}),
      startedAt: this.startedAt,
      everyMs: this.everyMs,
    };
    try {
      await this.kv.put(this.key, JSON.stringify(value));
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, "presence heartbeat missed");
    }
  }

  /**
   * Removes the entries of this actor (or of the routers) left by processes of this host that are
   * gone (see liveness.ts): a replica restarted after a kill -9 replaces its predecessor at once
   * instead of both being listed until the entry expires. Only keys under this heartbeat's own
   * prefix, the ones its user may write. Best effort: any failure leaves them to expire.
   */
  private async removeGone(kv: KV): Promise<void> {
    const jsm = managers.get(kv);
    if (!jsm) return;
    const subjectPrefix = `$KV.${Buckets.Presence}.`;
    const keyPrefix = this.key.slice(0, this.key.lastIndexOf(".") + 1);
    try {
      const info = await jsm.streams.info(`KV_${Buckets.Presence}`, { subjects_filter: `${subjectPrefix}${keyPrefix}>` });
      for (const subject of Object.keys(info.state.subjects ?? {})) {
        const key = subject.slice(subjectPrefix.length);
        if (key === this.key) continue;
        const entry = await kv.get(key);
        if (entry?.operation !== "PUT" || !processGone(parse(entry.value))) continue;
        await kv.delete(key);
        this.logger.info({ key }, "removed the presence entry of a replica whose process is gone");
      }
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, "could not look for presence entries of gone replicas");
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
