import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { NotFoundError } from "../../errors.ts";
import { tokenFor } from "../../events/subjects.ts";
import { ensureBucket } from "../../nats/buckets.ts";
import { retryTransient } from "../../nats/connect.ts";
import { orMissing } from "../../nats/missing.ts";
import { readSubjects } from "../../nats/subject-read.ts";
import { Buckets, JetbusHeaders, StateKeys } from "../../topology.ts";
import { publishAtomicPair } from "./atomic-pair.ts";
import type { StagedChange, StateEntry, StateListing, StateMarker, StateRevision } from "./types.ts";

/** The 64 newest revisions of each key are kept (KV's largest history): `jetbus state history` reads them. */
const HISTORY = 64;
/**
 * A handling's marker (with its outbox) rides on its state message as a header up to this size; a larger one is
 * written with the state by an atomic batch instead. Headers are limited to 64 KiB by the server; 16 KiB leaves room.
 */
const MAX_MARKER_HEADER = 16 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A key's state (`text`: as stored, JSON); `writtenBy` is the handling that wrote this revision (its event id and marker). */
export type StateRead = Readonly<{
  value: unknown;
  text?: string;
  revision: number;
  exists: boolean;
  writtenBy?: Readonly<{ eventId: string; marker?: StateMarker }>;
}>;
/** A handling's marker that so far only its state message carries (in a header): see StateStore. */
export type PendingMarker = Readonly<{ eventToken: string; marker: StateMarker }>;
export type Commit = Readonly<{
  eventToken: string;
  eventId: string;
  key: string;
  revision: number;
  change: StagedChange<unknown>;
  /** The new state as JSON, when the caller has it already (else written from `change`). */
  text?: string;
  marker: StateMarker;
  markerTtlMs: number;
  /**
   * The marker of the key's last writer when only the state message being replaced holds it: stored
   * on its own just before the new state (one socket write, one stream, in order), so that it
   * outlives its state message.
   */
  pending?: PendingMarker;
}>;
/**
 * "committed" with the key's new revision (unchanged state: the one read); "processed": another
 * handling of this event committed first, its marker says what it left to do.
 */
export type CommitResult =
  | Readonly<{ kind: "committed"; revision: number; pendingError?: unknown }>
  | Readonly<{ kind: "processed"; marker: StateMarker }>
  | Readonly<{ kind: "conflict" }>;

/**
 * One stateful actor's bucket (`jetbus-state-<actor>`): key states with history, processed
 * markers and outbox-flushed flags, in ONE stream. A handling that changes the state commits
 * with ONE guarded write: the state message, guarded by the revision the handler read
 * (Nats-Expected-Last-Subject-Sequence), carries the event id and the marker (with the outbox) in
 * its headers, so the state and "this event is processed" are stored together or not at all.
 * As long as it is the key's last state message, it answers for the marker (a duplicate check
 * reads both); the separate marker (`m.<event>`) is written only when the key's next state
 * replaces it, in the same socket write just before that state (`pending`). A handling that
 * leaves the state unchanged commits its marker alone (guarded by "none yet"). A marker too large
 * for a header is written with the state by one atomic batch instead.
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
    const writtenBy = m ? writerOf(m) : undefined;
    if (!m || isDelete(m)) return { value: undefined, revision: m?.seq ?? 0, exists: false, writtenBy };
    const text = decoder.decode(m.data);
    return { value: JSON.parse(text), text, revision: m.seq, exists: true, writtenBy };
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
   * Writes a handling's outcome: its marker alone when the state is unchanged, else the state
   * message carrying the marker (after the replaced writer's pending marker). A refused write is
   * told apart by reading back: the key's state or the marker written by this event (another
   * handling of it committed first), or a newer revision (a conflict: run again on fresh state).
   */
  async commit(c: Commit): Promise<CommitResult> {
    try {
      if (c.change.kind === "unchanged") {
        await this.writeMarker(c.eventToken, c.marker, c.markerTtlMs);
        return { kind: "committed", revision: c.revision };
      }
      const pending = c.pending;
      const before = pending && this.storeMarker(pending, c.markerTtlMs);
      before?.catch(() => undefined); // awaited below, once the state's answer is in
      // a leader election or a node's lost routes answer "no responders" for seconds: wait it out here
      // rather than fail the handling (retried as a handler error, dead-lettered after its attempts)
      const revision = await retryTransient(() => this.writeState(c));
      let pendingError: unknown;
      if (before && pending)
        await before.catch(() =>
          // the state no longer names that writer: its marker must exist on its own
          retryTransient(() => this.storeMarker(pending, c.markerTtlMs)).catch((err: unknown) => (pendingError = err)),
        );
      return pendingError === undefined ? { kind: "committed", revision } : { kind: "committed", revision, pendingError };
    } catch (err) {
      const read = await this.read(c.key);
      if (read.writtenBy?.eventId === c.eventId && read.writtenBy.marker) return { kind: "processed", marker: read.writtenBy.marker };
      const marker = await this.marker(c.eventToken);
      if (marker) return { kind: "processed", marker };
      if (read.revision !== c.revision) return { kind: "conflict" };
      throw err;
    }
  }

  /** Stores the marker unless one exists (a redelivery finishing a handling whose state is already written). */
  async writeMarker(eventToken: string, marker: StateMarker, ttlMs: number): Promise<void> {
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", "0");
    h.set("Nats-TTL", ttlHeader(ttlMs));
    try {
      const data = encoder.encode(JSON.stringify(marker));
      await retryTransient(() => this.js.publish(this.prefix + StateKeys.marker(eventToken), data, { headers: h }));
    } catch (err) {
      if ((await this.marker(eventToken)) === null) throw err;
    }
  }

  /** A pending marker on its own, unguarded: its content is fixed, a second copy is harmless. */
  private async storeMarker(p: PendingMarker, ttlMs: number): Promise<void> {
    const h = headers();
    h.set("Nats-TTL", ttlHeader(ttlMs));
    await this.js.publish(this.prefix + StateKeys.marker(p.eventToken), encoder.encode(JSON.stringify(p.marker)), { headers: h });
  }

  /** Writes the state guarded by the revision read; resolves with the new revision (0 when the server did not say). */
  private async writeState(c: Commit): Promise<number> {
    const h = headers();
    h.set("Nats-Expected-Last-Subject-Sequence", String(c.revision));
    h.set(JetbusHeaders.EventId, c.eventId);
    if (c.change.kind === "delete") h.set("KV-Operation", "DEL");
    const body = c.change.kind === "set" ? encoder.encode(c.text ?? JSON.stringify(c.change.value)) : new Uint8Array(0);
    const subject = this.prefix + StateKeys.state(tokenFor(c.key));
    const marker = Buffer.from(JSON.stringify(c.marker)).toString("base64url");
    if (marker.length <= MAX_MARKER_HEADER) {
      h.set(JetbusHeaders.StateMarker, marker);
      return (await this.js.publish(subject, body, { headers: h })).seq;
    }
    const mh = headers();
    mh.set("Nats-Expected-Last-Subject-Sequence", "0");
    mh.set("Nats-TTL", ttlHeader(c.markerTtlMs));
    const markerSubject = this.prefix + StateKeys.marker(c.eventToken);
    return publishAtomicPair(
      this.nc,
      { subject: markerSubject, data: encoder.encode(JSON.stringify(c.marker)), headers: mh },
      { subject, data: body, headers: h },
    );
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

/** The event id and marker a state message was written with (markers of large outboxes live only under `m.`). */
function writerOf(m: StoredMsg): StateRead["writtenBy"] {
  const eventId = m.header?.get(JetbusHeaders.EventId);
  if (!eventId) return undefined;
  const raw = m.header?.get(JetbusHeaders.StateMarker);
  return { eventId, marker: raw ? (JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as StateMarker) : undefined };
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
