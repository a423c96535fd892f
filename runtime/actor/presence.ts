import { hostname } from "node:os";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import { Buckets } from "../topology.ts";
import type { Logger } from "../log.ts";
import { ensureBucket } from "./buckets.ts";
import type { PresenceValue } from "./types.ts";

export const PRESENCE_TTL_MS = 10_000;
export const HEARTBEAT_EVERY_MS = 2_000;

export function presenceKey(actor: string, replica: string): string {
  return `actor.${actor}.${replica}`;
}

/** The presence bucket: entries vanish ~10s after their replica stops heartbeating. */
export function openPresenceBucket(nc: NatsConnection, replicas: number): Promise<KV> {
  return ensureBucket(nc, Buckets.Presence, { history: 1, ttl: PRESENCE_TTL_MS, replicas });
}

/**
 * Heartbeats one worker into `jetbus-presence` so `jetbus status` can count live replicas.
 * A missed beat (server away) is logged at debug and retried on the next tick.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private readonly startedAt = new Date().toISOString();
  private readonly key: string;

  constructor(private readonly kv: KV, private readonly actor: string, private readonly replica: string, private readonly inFlight: () => number, private readonly logger: Logger) {
    this.key = presenceKey(actor, replica);
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_EVERY_MS);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const value: PresenceValue = { role: "actor", name: this.actor, replica: this.replica, host: hostname(), pid: process.pid, startedAt: this.startedAt, inFlight: this.inFlight() };
    try {
      await this.kv.put(this.key, JSON.stringify(value));
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, "presence heartbeat missed");
    }
  }

  /** Stops beating and removes the entry, so status drops the replica at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.kv.delete(this.key).catch(() => undefined);
  }
}
