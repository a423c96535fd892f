import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { NotFoundError } from "../errors.ts";
import { ensureBucket } from "../nats/buckets.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { readSubjects } from "../nats/subject-read.ts";
import { Buckets, JetbusHeaders, ProjectionKeys } from "../topology.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PLAIN = /^[A-Za-z0-9_-]{1,256}$/;

/** One key of a read model as stored. `seq` is the store sequence of the last event applied to it (0: none yet). */
export type ModelEntry = Readonly<{
  key: string;
  exists: boolean;
  value: unknown;
  /** The key's message sequence in the bucket: what the next write of this key is guarded by (0: never written). */
  revision: number;
  seq: number;
  eventId?: string;
  time?: Date;
}>;

/** The bucket key of a read-model key: itself when it is a plain token (readable in `nats kv ls`), else base64url. */
export function modelKeyOf(key: string): string {
  return PLAIN.test(key) ? ProjectionKeys.plain(key) : ProjectionKeys.encoded(Buffer.from(key, "utf8").toString("base64url"));
}

/** The read-model key of a bucket key; undefined for the bucket's own keys (the position). */
export function keyOfModelKey(k: string): string | undefined {
  if (k.startsWith("k.")) return k.slice(2);
  if (k.startsWith("b.")) return Buffer.from(k.slice(2), "base64url").toString("utf8");
  return undefined;
}

/**
 * One version of a projection's read model: KV bucket `jetbus-projection-<name>-v<N>` (history 1).
 * Each key's message carries, besides its state, the store sequence of the last event applied to
 * it (header jetbus-projection-seq), written by ONE guarded write (Nats-Expected-Last-Subject-Sequence
 * = the revision the runner read): the change and "events up to this sequence are in it" are
 * stored together or not at all. A deleted key keeps its sequence on the delete marker.
 */
export class ReadModel {
  readonly stream: string;
  private readonly prefix: string;

  private constructor(
    readonly name: string,
    readonly version: number,
    readonly bucket: string,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {
    this.stream = `KV_${bucket}`;
    this.prefix = `$KV.${bucket}.`;
  }

  /** Opens version `version`, creating its bucket when missing. */
  static async open(nc: NatsConnection, name: string, version: number, opts: { replicas: number }): Promise<ReadModel> {
    const bucket = Buckets.projection(name, version);
    await ensureBucket(nc, bucket, { history: 1, replicas: opts.replicas });
    return new ReadModel(name, version, bucket, nc, jetstream(nc), await jetstreamManager(nc, { checkAPI: false }));
  }

  /** Binds to an existing version (reads); NotFoundError when its bucket is gone. */
  static async bind(nc: NatsConnection, name: string, version: number): Promise<ReadModel> {
    const bucket = Buckets.projection(name, version);
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    if (!(await retryTransient(() => orMissing(() => jsm.streams.info(`KV_${bucket}`)))))
      throw new NotFoundError(`projection "${name}" has no version ${version} (bucket ${bucket} does not exist)`);
    return new ReadModel(name, version, bucket, nc, jetstream(nc), jsm);
  }

  /** A key as the bucket's leader holds it (a lagging replica would only make the next write fail its guard). */
  async read(key: string): Promise<ModelEntry> {
    const m = await this.last(modelKeyOf(key));
    return m ? entryOf(key, m) : { key, exists: false, value: undefined, revision: 0, seq: 0 };
  }

  /**
   * Writes a key's new state as JSON (`undefined`: delete the key) with the sequence of the last
   * event it reflects, only if the key is still at `revision`; resolves to the new revision. A key
   * changed since (another runner) fails with the server's "wrong last sequence" error.
   */
  async write(key: string, json: string | undefined, revision: number, seq: number, eventId: string): Promise<number> {
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", String(revision));
    h.set(JetbusHeaders.ProjectionSeq, String(seq));
    h.set(JetbusHeaders.EventId, eventId);
    if (json === undefined) h.set("KV-Operation", "DEL");
    const body = json === undefined ? new Uint8Array(0) : encoder.encode(json);
    const ack = await this.js.publish(this.prefix + modelKeyOf(key), body, { headers: h });
    return ack.seq;
  }

  /** The store sequence every event up to which is applied (0: none). */
  async position(): Promise<number> {
    const m = await this.last(ProjectionKeys.position);
    return m ? Number(JSON.parse(decoder.decode(m.data)).seq) || 0 : 0;
  }

  async setPosition(seq: number): Promise<void> {
    await retryTransient(() =>
      this.js.publish(this.prefix + ProjectionKeys.position, encoder.encode(JSON.stringify({ seq, at: new Date().toISOString() }))),
    );
  }

  /** Every key that holds a state, sorted, read by ONE ordered consumer over the bucket (not a get per key). */
  async list(): Promise<ModelEntry[]> {
    const bySubject = new Map<string, ModelEntry>();
    await readSubjects(this.nc, this.stream, `${this.prefix}>`, { deliver: "last" }, (m) => {
      const key = keyOfModelKey(m.subject.slice(this.prefix.length));
      if (key === undefined) return;
      const op = m.headers?.get("KV-Operation");
      if (op === "DEL" || op === "PURGE") bySubject.delete(m.subject);
      else
        bySubject.set(m.subject, {
          key,
          exists: true,
          value: JSON.parse(decoder.decode(m.data)),
          revision: m.seq,
          seq: Number(m.headers?.get(JetbusHeaders.ProjectionSeq)) || 0,
          eventId: m.headers?.get(JetbusHeaders.EventId) || undefined,
          time: new Date(m.info.timestampNanos / 1e6),
        });
    });
    return [...bySubject.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Removes this version's bucket. */
  async destroy(): Promise<void> {
    await retryTransient(() => orMissing(() => this.jsm.streams.delete(this.stream)));
  }

  private last(key: string): Promise<StoredMsg | null> {
    return retryTransient(() => orMissing(() => this.jsm.streams.getMessage(this.stream, { last_by_subj: this.prefix + key })));
  }
}

function entryOf(key: string, m: StoredMsg): ModelEntry {
  const op = m.header?.get("KV-Operation");
  const exists = op !== "DEL" && op !== "PURGE";
  return {
    key,
    exists,
    value: exists ? JSON.parse(decoder.decode(m.data)) : undefined,
    revision: m.seq,
    seq: Number(m.header?.get(JetbusHeaders.ProjectionSeq)) || 0,
    eventId: m.header?.get(JetbusHeaders.EventId) || undefined,
    time: m.time,
  };
}
