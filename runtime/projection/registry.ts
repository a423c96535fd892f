import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { NotFoundError } from "../errors.ts";
import { ensureBucket } from "../nats/buckets.ts";
import { retryTransient } from "../nats/connect.ts";
import { isWrongLastSequence } from "../nats/errors.ts";
import { Buckets } from "../topology.ts";

/** What KV jetbus-projections holds per projection: which version readers use, and a rebuild under way. */
export type ProjectionRecord = Readonly<{
  name: string;
  /** The version readers use and live runners keep up to date. */
  version: number;
  /** The event types it reads and the store subjects they are (for status and the console, which load no module). */
  events: readonly string[];
  filters: readonly string[];
  createdAt: string;
  /** When readers last switched version, and from which one (its bucket is kept until the next switch). */
  switchedAt?: string;
  previous?: number;
  /** A rebuild building this version, not yet switched to. */
  rebuilding?: Readonly<{ version: number; startedAt: string }>;
}>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * KV `jetbus-projections`: per projection, the version of its read model that readers use. A
 * rebuild builds the next version beside it and switches this record when it has caught up; every
 * live runner and every reader watches the record and follows. Changes are compare-and-set on the
 * entry's revision, so two processes changing it at once cannot lose each other's change.
 */
export class ProjectionRegistry {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, opts: { replicas: number }): Promise<ProjectionRegistry> {
    return new ProjectionRegistry(await ensureBucket(nc, Buckets.Projections, { history: 8, replicas: opts.replicas }));
  }

  /** Binds to the bucket without creating or checking anything (readers: status, the console, ProjectionReader; check it exists first). */
  static async bind(nc: NatsConnection): Promise<ProjectionRegistry> {
    return new ProjectionRegistry(await new Kvm(nc).open(Buckets.Projections, { bindOnly: true }));
  }

  async get(name: string): Promise<ProjectionRecord | null> {
    const e = await retryTransient(() => this.kv.get(name));
    if (!e || e.operation !== "PUT") return null;
    return JSON.parse(decoder.decode(e.value)) as ProjectionRecord;
  }

  /** The record, NotFoundError naming what to run when the projection never ran. */
  async require(name: string): Promise<ProjectionRecord> {
    const r = await this.get(name);
    if (!r)
      throw new NotFoundError(
        `projection "${name}" has not run yet (no entry in KV ${Buckets.Projections}): start it with \`jetbus up\` or \`jetbus projection run ${name}\``,
      );
    return r;
  }

  /** The record, created at version 1 when the projection never ran (whoever creates it first wins). */
  async ensure(name: string, events: readonly string[], filters: readonly string[]): Promise<ProjectionRecord> {
    return this.change(name, (r) => r ?? { name, version: 1, events, filters, createdAt: new Date().toISOString() });
  }

  /** Applies `fn` to the current record (null: none) and stores its answer unless another change came first (then again). */
  async change(name: string, fn: (r: ProjectionRecord | null) => ProjectionRecord): Promise<ProjectionRecord> {
    for (;;) {
      const e = await retryTransient(() => this.kv.get(name));
      const current = e && e.operation === "PUT" ? (JSON.parse(decoder.decode(e.value)) as ProjectionRecord) : null;
      const next = fn(current);
      if (next === current) return current;
      try {
        const data = encoder.encode(JSON.stringify(next));
        await retryTransient(() => (e ? this.kv.update(name, data, e.revision) : this.kv.create(name, data)));
        return next;
      } catch (err) {
        // another process changed it between our read and write: read again
        if (!isWrongLastSequence(err) && !/wrong last sequence|key exists/i.test((err as Error)?.message ?? "")) throw err;
      }
    }
  }

  /** Every projection that ever ran, by name. */
  async list(): Promise<ProjectionRecord[]> {
    const out: ProjectionRecord[] = [];
    const keys = await retryTransient(async () => {
      const ks: string[] = [];
      for await (const k of await this.kv.keys()) ks.push(k);
      return ks;
    });
    for (const k of keys.sort()) {
      const r = await this.get(k);
      if (r) out.push(r);
    }
    return out;
  }

  /** Calls `onChange` with the record now and after every change. */
  async watch(name: string, onChange: (r: ProjectionRecord) => void): Promise<{ stop(): void }> {
    const iter = await retryTransient(() => this.kv.watch({ key: name }));
    void (async () => {
      for await (const e of iter) if (e.operation === "PUT") onChange(JSON.parse(decoder.decode(e.value)) as ProjectionRecord);
    })();
    return { stop: () => iter.stop() };
  }
}
