import { hostname } from "node:os";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { ensureBucket } from "../nats/buckets.ts";
import { isWrongLastSequence } from "../nats/errors.ts";
import { Buckets } from "../topology.ts";

/**
 * How a lease keeps time. The holder must notice a lost lease before anyone else can take it:
 * a renewal starts `renewEveryMs` after the last good one and gives up after `renewTimeoutMs`,
 * so the holder stops by `renewEveryMs + renewTimeoutMs` after its last confirmed write, well
 * before the key expires `ttlMs` after that write.
 */
export type LeaseTiming = Readonly<{ ttlMs: number; renewEveryMs: number; renewTimeoutMs: number; retryEveryMs: number }>;

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 10_000, renewEveryMs: 3_000, renewTimeoutMs: 2_000, retryEveryMs: 1_000 };

/** What a lease key holds: who has it, for status and logs. */
export type LeaseValue = Readonly<{ holder: string; host: string; pid: number; since: string }>;

export type LeaseListener = Readonly<{
  /** This process holds the lease from now on (until onLost). */
  onAcquired(): void;
  /** This process no longer holds the lease; whatever needs it must stop at once. */
  onLost(reason: string): void;
}>;

/** The leases bucket: every key vanishes `ttlMs` after its last write (the bucket's max age). */
export function openLeaseBucket(nc: NatsConnection, replicas: number, ttlMs = DEFAULT_LEASE_TIMING.ttlMs): Promise<KV> {
  return ensureBucket(nc, Buckets.Leases, { history: 1, ttl: ttlMs, replicas });
}

/** Status events after which this client can no longer prove it renews in time. */
const CONNECTION_LOST = new Set(["disconnect", "reconnecting", "staleConnection", "close"]);

/**
 * A lease on one KV key: at most one holder at a time, across every process.
 *
 * Acquire is `kv.create` (fails while anyone holds the key); renew is `kv.update` against the
 * revision this holder last wrote (compare-and-set: fails if the key expired and someone else
 * created it). The bucket's TTL expires the key when a holder dies without releasing it.
 * No clocks are compared between hosts: the holder only measures its own elapsed time.
 *
 * A holder gives the lease up locally (onLost) on the first failed or slow renewal and on any
 * loss of its connection, without waiting for the TTL. Then it competes again like any standby,
 * except that it may take the lease straight back while the key still holds its own last write
 * (nobody acquired in between), so a lone router does not wait out the TTL after a blip.
 */
export class Lease {
  private revision = 0;
  /**
   * The revision this process last wrote before losing the lease locally (a connection blip, a
   * slow renewal). While the key still has exactly that revision nobody else acquired it, so the
   * lease can be taken back by compare-and-set instead of waiting for the TTL.
   */
  private reclaimable = 0;
  private timer?: NodeJS.Timeout;
  private statusIter?: AsyncIterable<{ type: string }> & { stop?: () => void };
  private stopped = true;
  /** Bumped on every acquire and loss: a slow create or update answered after a change is ignored. */
  private epoch = 0;
  private readonly value: LeaseValue;

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    readonly key: string,
    readonly holder: string,
    private readonly listener: LeaseListener,
    private readonly logger: Logger,
    private readonly timing: LeaseTiming = DEFAULT_LEASE_TIMING,
  ) {
    if (timing.renewEveryMs + timing.renewTimeoutMs >= timing.ttlMs) throw new RangeError(`lease ${key}: renewEveryMs + renewTimeoutMs must be below ttlMs`);
    this.value = { holder, host: hostname(), pid: process.pid, since: new Date().toISOString() };
  }

  get held(): boolean {
    return this.revision > 0;
  }

  /** Starts competing for the lease (at once, then every retryEveryMs while someone else holds it). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.watchConnection();
    this.schedule(0);
  }

  /** Stops competing; a held lease is released, so a standby takes over without waiting for the TTL. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.statusIter?.stop?.();
    await this.release("released");
  }

  /**
   * Gives a held lease up now (onLost first, then the key is deleted if it is still ours) and
   * keeps competing unless stopped: for a holder that cannot do the work the lease is for.
   */
  async release(reason: string): Promise<void> {
    const revision = this.revision;
    if (revision === 0) return;
    this.lose(reason);
    this.reclaimable = 0;
    await this.kv.delete(this.key, { previousSeq: revision }).catch(() => undefined);
    this.schedule(this.timing.retryEveryMs);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.held) await this.renew();
    else await this.tryAcquire();
  }

  private async tryAcquire(): Promise<void> {
    const epoch = this.epoch;
    try {
      const value = JSON.stringify(this.value);
      const revision = this.reclaimable > 0 ? await this.reclaim(value) : await this.kv.create(this.key, value);
      if (this.stopped || epoch !== this.epoch) {
        // stopped while the create was in flight: hand it straight back
        await this.kv.delete(this.key, { previousSeq: revision }).catch(() => undefined);
        return;
      }
      this.revision = revision;
      this.epoch++;
      this.logger.info({ lease: this.key, holder: this.holder }, "lease acquired");
      this.listener.onAcquired();
      this.schedule(this.timing.renewEveryMs);
    } catch {
      // held by someone else (or the server is unreachable): try again later
      this.schedule(this.timing.retryEveryMs);
    }
  }

  /** Takes the lease back by compare-and-set on our last write; only the server saying it changed ends the chance. */
  private async reclaim(value: string): Promise<number> {
    try {
      const revision = await this.kv.update(this.key, value, this.reclaimable, this.timing.renewTimeoutMs);
      this.reclaimable = 0;
      return revision;
    } catch (err) {
      if (isWrongLastSequence(err)) {
        this.reclaimable = 0;
        return this.kv.create(this.key, value);
      }
      throw err;
    }
  }

  private async renew(): Promise<void> {
    const epoch = this.epoch;
    const started = Date.now();
    try {
      const revision = await withTimeout(this.kv.update(this.key, JSON.stringify(this.value), this.revision, this.timing.renewTimeoutMs), this.timing.renewTimeoutMs);
      if (epoch !== this.epoch) return;
      // a reply that took too long says nothing about the time left before expiry
      if (Date.now() - started > this.timing.renewTimeoutMs) throw new Error("renewal answered too late");
      this.revision = revision;
      this.schedule(this.timing.renewEveryMs);
    } catch (err) {
      if (epoch !== this.epoch) return;
      this.lose(`renewal failed: ${(err as Error).message}`);
      this.schedule(this.timing.retryEveryMs);
    }
  }

  private lose(reason: string): void {
    if (!this.held) return;
    this.reclaimable = this.revision;
    this.revision = 0;
    this.epoch++;
    this.logger.warn({ lease: this.key, holder: this.holder, reason }, "lease lost");
    this.listener.onLost(reason);
  }

  private async watchConnection(): Promise<void> {
    const iter = this.nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.statusIter = iter;
    for await (const s of iter) {
      if (this.stopped) break;
      if (CONNECTION_LOST.has(s.type) && this.held) {
        this.lose(`connection ${s.type}`);
        this.schedule(this.timing.retryEveryMs);
      }
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
