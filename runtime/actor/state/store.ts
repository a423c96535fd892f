import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";
import { headers, nuid, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { NotFoundError } from "../../errors.ts";
import { tokenFor } from "../../events/subjects.ts";
import { ensureBucket } from "../../nats/buckets.ts";
import { retryTransient } from "../../nats/connect.ts";
import { orMissing } from "../../nats/missing.ts";
import { readSubjects } from "../../nats/subject-read.ts";
import { Buckets, JetbusHeaders, StateKeys } from "../../topology.ts";
import type { StagedChange, StateEntry, StateListing, StateMarker, StateRevision } from "./types.ts";

/** The 64 newest revisions of each key are kept (KV's largest history): `jetbus state history` reads them. */
const HISTORY = 64;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export type StateRead = Readonly<{ value: unknown; revision: number; exists: boolean }>;
export type Commit = Readonly<{
  eventToken: string;
  eventId: string;
  key: string;
  revision: number;
  change: StagedChange<unknown>;
  marker: StateMarker;
  markerTtlMs: number;
}>;
export type CommitResult = "committed" | "processed" | "conflict";

/**
 * One stateful actor's bucket (`jetbus-state-<actor>`): key states with history, processed
 * markers and outbox-flushed flags, in ONE stream, so that a handling's new state and its marker
 * are written by one atomic batch (nats-server 2.12+): both or neither. The state message is
 * guarded by the revision the handler read (Nats-Expected-Last-Subject-Sequence), the marker by
 * "no marker yet" (expected 0): a second handling of the same event, or of the same key from a
 * stale read, cannot commit.
 */
export class StateStore {
  private constructor(
    readonly actor: string,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly nc: NatsConnection,
  ) {}

  /** Opens the bucket, creating it (and allowing atomic batches and per-message TTLs) when needed. */
  static async open(nc: NatsConnection, actor: string, opts: { replicas: number }): Promise<StateStore> {
    const name = Buckets.state(actor);
    await ensureBucket(nc, name, { history: HISTORY, replicas: opts.replicas });
    const jsm = await jetstreamManager(nc);
    const stream = `KV_${name}`;
    const config = (await retryTransient(() => jsm.streams.info(stream))).config as unknown as Record<string, unknown>;
    if (config.allow_atomic !== true || config.allow_msg_ttl !== true) {
      await retryTransient(() => jsm.streams.update(stream, { ...config, allow_atomic: true, allow_msg_ttl: true } as never));
    }
    return new StateStore(actor, stream, `$KV.${name}.`, jetstream(nc), jsm, nc);
  }

  /** Binds to an existing bucket without creating anything (the CLI's reads). */
  static async bind(nc: NatsConnection, actor: string): Promise<StateStore> {
    const name = Buckets.state(actor);
    const jsm = await jetstreamManager(nc);
    const info = await orMissing(() => jsm.streams.info(`KV_${name}`));
    if (!info) throw new NotFoundError(`actor "${actor}" has no state bucket (${name}): it is not a stateful actor, or it has not run yet`);
    return new StateStore(actor, `KV_${name}`, `$KV.${name}.`, jetstream(nc), jsm, nc);
  }

  /** A key's state as the stream leader has it (a lagging replica would only cause a conflict later). */
  async read(key: string): Promise<StateRead> {
    const m = await this.last(StateKeys.state(tokenFor(key)));
    if (!m || isDelete(m)) return { value: undefined, revision: m?.seq ?? 0, exists: false };
    return { value: JSON.parse(decoder.decode(m.data)), revision: m.seq, exists: true };
  }

  async marker(eventToken: string): Promise<StateMarker | null> {
    const m = await this.last(StateKeys.marker(eventToken));
    return m ? (JSON.parse(decoder.decode(m.data)) as StateMarker) : null;
  }

  async flushed(eventToken: string): Promise<boolean> {
    return (await this.last(StateKeys.flushed(eventToken))) !== null;
  }

  async markFlushed(eventToken: string, ttlMs: number): Promise<void> {
    const h = headers();
    h.set("Nats-TTL", ttlHeader(ttlMs));
    await retryTransient(() => this.js.publish(this.prefix + StateKeys.flushed(eventToken), encoder.encode("1"), { headers: h }));
  }

  /**
   * Writes the marker and (unless unchanged) the new state in one atomic batch. A refused batch is
   * told apart by reading the marker: there, another handling of this event committed first.
   */
  async commit(c: Commit): Promise<CommitResult> {
    const mh = headers();
    mh.set("Nats-Expected-Last-Subject-Sequence", "0");
    mh.set("Nats-TTL", ttlHeader(c.markerTtlMs));
    const markerSubject = this.prefix + StateKeys.marker(c.eventToken);
    const markerBody = encoder.encode(JSON.stringify(c.marker));
    try {
      if (c.change.kind === "unchanged") {
        await this.js.publish(markerSubject, markerBody, { headers: mh });
      } else {
        const sh = headers();
        sh.set("Nats-Expected-Last-Subject-Sequence", String(c.revision));
        sh.set(JetbusHeaders.EventId, c.eventId);
        if (c.change.kind === "delete") sh.set("KV-Operation", "DEL");
        const body = c.change.kind === "set" ? encoder.encode(JSON.stringify(c.change.value)) : new Uint8Array(0);
        await this.atomicPair(markerSubject, markerBody, mh, this.prefix + StateKeys.state(tokenFor(c.key)), body, sh);
      }
      return "committed";
    } catch (err) {
      // the server answers a failed expectation with a generic batch error: the marker tells which one failed
      if ((await this.marker(c.eventToken)) !== null) return "processed";
      if ((await this.read(c.key)).revision !== c.revision) return "conflict";
      throw err;
    }
  }

  /**
   * One atomic batch of two messages in one round trip: the first is a plain publish (the server
   * stages it), the second commits and is the only one answered. The client's startBatch asks for
   * an answer to the first message as well, a second round trip per commit.
   */
  private async atomicPair(
    firstSubject: string,
    first: Uint8Array,
    firstHeaders: MsgHdrs,
    lastSubject: string,
    last: Uint8Array,
    lastHeaders: MsgHdrs,
  ): Promise<void> {
    const id = nuid.next();
    firstHeaders.set("Nats-Batch-Id", id);
    firstHeaders.set("Nats-Batch-Sequence", "1");
    lastHeaders.set("Nats-Batch-Id", id);
    lastHeaders.set("Nats-Batch-Sequence", "2");
    lastHeaders.set("Nats-Batch-Commit", "1");
    this.nc.publish(firstSubject, first, { headers: firstHeaders });
    const reply = await this.nc.request(lastSubject, last, { headers: lastHeaders, timeout: 5000 });
    const ack = JSON.parse(decoder.decode(reply.data)) as {
      count?: number;
      error?: { code: number; err_code?: number; description?: string };
    };
    if (ack.error || ack.count !== 2)
      throw new StateCommitRefusedError(ack.error?.description ?? `batch stored ${ack.count ?? 0} of 2 messages`, ack.error?.err_code);
  }

  /** Keys that hold a state (deleted ones are left out), sorted. */
  async keys(): Promise<string[]> {
    return (await this.list()).entries.map((e) => e.key).sort();
  }

  /**
   * Every key that holds a state with its value, revision and the event that wrote it, read by
   * ONE ordered consumer over the `s.` subjects (the newest message of each) instead of a get
   * per key; sorted by key. With `limit`, the `limit` most recently changed keys (the newest
   * stream sequences), and `total` still counts them all.
   */
  async list(limit = Number.POSITIVE_INFINITY): Promise<StateListing> {
    // Map order is insertion order: stream order, so the first entry is the least recently changed
    const newest = new Map<string, StateEntry>();
    let total = 0;
    await readSubjects(this.nc, this.stream, this.prefix + StateKeys.allStates, { deliver: "last" }, (m) => {
      // an ordered consumer that reset mid-read delivers a subject again: the later message wins
      if (newest.delete(m.subject)) total--;
      if (isDeleteOp(m.headers?.get("KV-Operation"))) return;
      newest.set(m.subject, {
        key: Buffer.from(m.subject.slice(this.prefix.length + 2), "base64url").toString("utf8"),
        revision: m.seq,
        time: new Date(m.info.timestampNanos / 1e6),
        eventId: m.headers?.get(JetbusHeaders.EventId) || undefined,
        value: JSON.parse(decoder.decode(m.data)),
      });
      total++;
      if (newest.size > limit) newest.delete(newest.keys().next().value!);
    });
    return { entries: [...newest.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)), total };
  }

  /** The stored revisions of one key, oldest first, each with the event that wrote it: one ordered consumer read. */
  async history(key: string): Promise<StateRevision[]> {
    const bySeq = new Map<number, StateRevision>();
    await readSubjects(this.nc, this.stream, this.prefix + StateKeys.state(tokenFor(key)), { deliver: "all" }, (m) => {
      const deleted = isDeleteOp(m.headers?.get("KV-Operation"));
      bySeq.set(m.seq, {
        revision: m.seq,
        time: new Date(m.info.timestampNanos / 1e6),
        eventId: m.headers?.get(JetbusHeaders.EventId) || undefined,
        deleted,
        value: deleted ? undefined : JSON.parse(decoder.decode(m.data)),
      });
    });
    return [...bySeq.values()].sort((a, b) => a.revision - b.revision);
  }

  private async last(key: string): Promise<StoredMsg | null> {
    return retryTransient(() => orMissing(() => this.jsm.streams.getMessage(this.stream, { last_by_subj: this.prefix + key })));
  }
}

function isDelete(m: StoredMsg): boolean {
  return isDeleteOp(m.header?.get("KV-Operation"));
}

function isDeleteOp(op: string | undefined): boolean {
  return op === "DEL" || op === "PURGE";
}

/** `Nats-TTL` takes a Go duration; whole seconds, at least one. */
function ttlHeader(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}

/** The server refused an atomic commit (a failed expectation, most often): told apart by the caller. */
class StateCommitRefusedError extends Error {
  override name = "StateCommitRefusedError";
  constructor(
    message: string,
    readonly apiCode?: number,
  ) {
    super(message);
  }
}
