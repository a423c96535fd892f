import { DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEvent } from "../events/codec.ts";
import type { Event } from "../events/types.ts";
import { upcast } from "../events/versions/upcast.ts";
import type { Logger } from "../log.ts";
import { retryTransient } from "../nats/connect.ts";
import { Delivery } from "../nats/delivered.ts";
import { isWrongLastSequence } from "../nats/errors.ts";
import type { EventSchemas } from "../store/schemas.ts";
import type { ProjectionDefinition } from "./define.ts";
import type { ReadModel } from "./model.ts";

/** Events taken at most per batch while catching up: writes are coalesced per key within a batch. */
const DEFAULT_BATCH = 1000;
/** The position key is written at most this often (it only shortens the re-read after a restart). */
const POSITION_EVERY_MS = 1000;
/** Keys whose last write this runner remembers, so a key's next change needs no read first. */
const CACHE_KEYS = 100_000;
/** Lost guards in a row on one key before its batch counts as failed (another runner keeps winning). */
const MAX_CONFLICTS = 50;
const RETRY_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

/** A key as this runner last wrote or read it: its JSON, the revision to guard the next write with, its last applied store sequence. */
type Known = { json: string | undefined; revision: number; seq: number };
type Applied = Readonly<{ event: Event; seq: number }>;

/** Progress of one runner, for heartbeats, `projection status` and the console. */
export type RunnerProgress = Readonly<{
  version: number;
  /** Every chosen event up to this store sequence is in the read model. */
  position: number;
  /** Chosen events in the store after `position`, as the runner's consumer last reported (its lag). */
  pending: number;
  /** Events this runner applied since it started (events already in the model are not counted). */
  applied: number;
  /** When evolve (or the key function) throws, the runner stops at that event and retries it: the store sequence and error. */
  stalled?: Readonly<{ seq: number; error: string }>;
}>;

export type ProjectionRunnerOptions = Readonly<{
  nc: NatsConnection;
  /** The event store (store.stream). */
  stream: string;
  /** The store subjects of the projection's event types (filtersOf). */
  filters: readonly string[];
  definition: ProjectionDefinition;
  model: ReadModel;
  schemas: EventSchemas;
  logger: Logger;
  batch?: number;
}>;

/**
 * Keeps one version of a read model up to date with the store. It reads the chosen event types
 * with an ordered consumer from its position (every event before is applied), in store order, and
 * per batch folds each key's events into the key's state and writes it with ONE guarded write
 * carrying the store sequence of the key's last event (ReadModel.write). A key's events are
 * applied in store order, so "this key's sequence is at or past the event's" is exactly "the event
 * is in it": an event delivered again (after a restart from the position, or to a second runner)
 * is recognised and skipped, and a write lost to another runner is redone on the fresh state.
 * Nothing is applied twice or skipped, whatever the number of runners or where they stop.
 *
 * Why an ordered consumer and not a shared durable with acks: correctness rests on each key's
 * events being applied in store order. A durable redelivers a crashed runner's unacked events
 * only after ack_wait, by which time a successor may have applied later events of the same keys,
 * and the early ones would then be skipped as applied. An ordered consumer from the position
 * cannot reorder. What a durable would add (a position the server keeps) is the position key here.
 *
 * A failing evolve stops the runner at that event (it retries it with backoff, logging each time):
 * skipping it would make the model disagree with a rebuild. `stalled` says where and why.
 */
export class ProjectionRunner {
  private position = 0;
  private pending = 0;
  private applied = 0;
  private stalled?: { seq: number; error: string };
  private readonly known = new Map<string, Known>();
  private messages?: ConsumerMessages;
  private stopping = false;
  private loop?: Promise<void>;
  private lastPositionWrite = 0;
  private positionTimer?: NodeJS.Timeout;
  private writtenPosition = 0;
  private readonly waiters: Array<{ seq: number; resolve: () => void }> = [];
  private caughtUpWaiters: Array<() => void> = [];
  private failures = 0;
  private skippedLogged = 0;
  private retryTimer?: { timer: NodeJS.Timeout; resolve: () => void };
  private readonly log: Logger;

  constructor(private readonly o: ProjectionRunnerOptions) {
    this.log = o.logger.child({ projection: o.model.name, version: o.model.version });
  }

  get progress(): RunnerProgress {
    return {
      version: this.o.model.version,
      position: this.position,
      pending: this.pending,
      applied: this.applied,
      ...(this.stalled ? { stalled: this.stalled } : {}),
    };
  }

  get version(): number {
    return this.o.model.version;
  }

  /** Reads the position and starts consuming from the event after it. */
  async start(): Promise<void> {
    this.position = await this.o.model.position();
    this.writtenPosition = this.position;
    this.loop = this.run();
  }

  /** Resolves once a batch ended with nothing pending (the model has every chosen event stored until then). */
  caughtUp(): Promise<void> {
    if (this.pending === 0 && this.loop && this.started) return Promise.resolve();
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  /** Resolves once every event up to store sequence `seq` is applied. */
  reached(seq: number): Promise<void> {
    if (this.position >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  private started = false;

  private async run(): Promise<void> {
    while (!this.stopping) {
      const ok = await this.consumeFromPosition().catch((err: unknown) => {
        this.log.error({ err: (err as Error)?.message ?? String(err) }, "projection runner: reading the store failed; starting again");
        return false;
      });
      if (this.stopping) break;
      if (!ok) await this.pause(RETRY_DELAYS_MS[Math.min(this.failures++, RETRY_DELAYS_MS.length - 1)]!);
    }
  }

  /** One ordered consumer from position + 1; false when a batch failed (the loop starts again from the position). */
  private async consumeFromPosition(): Promise<boolean> {
    const consumer = await retryTransient(() =>
      jetstream(this.o.nc).consumers.get(this.o.stream, {
        filter_subjects: [...this.o.filters],
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: this.position + 1,
      }),
    );
    const info = await consumer.info(true);
    this.pending = info.num_pending;
    this.started = true;
    if (this.pending === 0) this.onCaughtUp();
    const batch = this.o.batch ?? DEFAULT_BATCH;
    const messages = await consumer.consume({ max_messages: batch });
    this.messages = messages;
    if (this.stopping) messages.stop();
    let buf: JsMsg[] = [];
    try {
      for await (const m of messages) {
        buf.push(m);
        if (m.info.pending > 0 && buf.length < batch) continue;
        const ok = await this.apply(buf, m.info.pending);
        buf = [];
        if (!ok) return false;
        this.failures = 0;
      }
    } finally {
      messages.stop();
      this.messages = undefined;
    }
    return true;
  }

  /** Applies one batch (store order); true when every chosen event in it is in the model. */
  private async apply(batch: readonly JsMsg[], pendingAfter: number): Promise<boolean> {
    const byKey = new Map<string, Applied[]>();
    let failedAt: { seq: number; error: string } | undefined;
    for (const m of batch) {
      let event: Event;
      try {
        event = upcast(decodeEvent(new Delivery(m, this.o.stream), { maxBytes: Number.MAX_SAFE_INTEGER }).event);
        this.o.schemas.checkEvent(event);
      } catch (err) {
        // what the router quarantines reaches no actor, and no read model either
        if (this.skippedLogged++ < 100)
          this.log.warn(
            { seq: m.seq, subject: m.subject, err: (err as Error)?.message },
            "event left out of the projection: not a valid event",
          );
        continue;
      }
      let key: string | undefined;
      try {
        key = this.o.definition.keyOf(event);
      } catch (err) {
        failedAt = { seq: m.seq, error: `key: ${(err as Error)?.message ?? String(err)}` };
        break;
      }
      if (key === undefined) continue;
      const list = byKey.get(key);
      if (list) list.push({ event, seq: m.seq });
      else byKey.set(key, [{ event, seq: m.seq }]);
    }
    const results = await Promise.all([...byKey].map(([key, events]) => this.applyKey(key, events)));
    let applied = 0;
    for (const r of results) {
      if (typeof r === "number") applied += r;
      else if (!failedAt || r.seq < failedAt.seq) failedAt = r;
    }
    if (failedAt) {
      this.setPosition(Math.max(this.position, failedAt.seq - 1));
      if (this.stalled?.seq !== failedAt.seq || this.stalled.error !== failedAt.error)
        this.log.error(failedAt, "projection stalled: evolve failed on this event; retrying it (the read model waits at the event before)");
      this.stalled = failedAt;
      return false;
    }
    if (this.stalled) this.log.info({ seq: this.stalled.seq }, "projection no longer stalled");
    this.stalled = undefined;
    this.applied += applied;
    this.pending = pendingAfter;
    this.setPosition(batch[batch.length - 1]!.seq);
    if (pendingAfter === 0) this.onCaughtUp();
    return true;
  }

  /**
   * Folds a key's events of this batch that are past its stored sequence into its state and writes
   * it once; a lost guard re-reads and folds again. The number of events applied (0: all were in
   * the model already), else the first event of the key not in the model (its evolve threw: nothing
   * of this key is written from this batch).
   */
  private async applyKey(key: string, events: readonly Applied[]): Promise<number | { seq: number; error: string }> {
    const def = this.o.definition;
    for (let attempt = 0; ; attempt++) {
      let known = this.known.get(key);
      if (!known) {
        const read = await this.o.model.read(key);
        known = { json: read.exists ? JSON.stringify(read.value) : undefined, revision: read.revision, seq: read.seq };
        this.remember(key, known);
      }
      const todo = events.filter((e) => e.seq > known!.seq);
      if (todo.length === 0) return 0;
      // a fresh copy per fold: evolve may change the state it is given
      let state: unknown = known.json === undefined ? def.initialState() : JSON.parse(known.json);
      try {
        for (const e of todo) {
          if (state === null) state = def.initialState();
          const next = def.evolve(state, e.event);
          if (next === undefined) throw new Error("evolve returned undefined: return the new state, or null to delete the key");
          state = next;
        }
      } catch (err) {
        return { seq: todo[0]!.seq, error: (err as Error)?.message ?? String(err) };
      }
      const last = todo[todo.length - 1]!;
      const json = state === null ? undefined : JSON.stringify(state);
      try {
        const revision = await retryTransient(() => this.o.model.write(key, json, known!.revision, last.seq, last.event.id));
        this.remember(key, { json, revision, seq: last.seq });
        return todo.length;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        // another runner (a second process, a rebuild beside a live runner) wrote this key: read it again
        this.known.delete(key);
        if (attempt >= MAX_CONFLICTS) return { seq: todo[0]!.seq, error: `key ${JSON.stringify(key)} kept changing under this runner` };
      }
    }
  }

  private remember(key: string, k: Known): void {
    this.known.delete(key);
    this.known.set(key, k);
    if (this.known.size > CACHE_KEYS) this.known.delete(this.known.keys().next().value!);
  }

  private setPosition(seq: number): void {
    this.position = seq;
    for (let i = this.waiters.length - 1; i >= 0; i--)
      if (this.waiters[i]!.seq <= seq) {
        this.waiters[i]!.resolve();
        this.waiters.splice(i, 1);
      }
    this.schedulePositionWrite();
  }

  private onCaughtUp(): void {
    const w = this.caughtUpWaiters;
    this.caughtUpWaiters = [];
    for (const r of w) r();
  }

  /** The position key at most once a second; the last one written again on stop. */
  private schedulePositionWrite(): void {
    if (this.positionTimer || this.position === this.writtenPosition) return;
    const wait = Math.max(0, this.lastPositionWrite + POSITION_EVERY_MS - Date.now());
    this.positionTimer = setTimeout(() => {
      this.positionTimer = undefined;
      void this.writePosition().catch((err: unknown) => this.log.warn({ err: (err as Error)?.message }, "projection position not written"));
    }, wait);
    this.positionTimer.unref();
  }

  private async writePosition(): Promise<void> {
    const seq = this.position;
    if (seq === this.writtenPosition) return;
    this.lastPositionWrite = Date.now();
    await this.o.model.setPosition(seq);
    this.writtenPosition = seq;
    this.schedulePositionWrite();
  }

  /** Writes the position now (a rebuild does before it switches readers over, so live runners resume from it). */
  async savePosition(): Promise<void> {
    clearTimeout(this.positionTimer);
    this.positionTimer = undefined;
    await this.writePosition();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.retryTimer = undefined;
        resolve();
      }, ms);
      this.retryTimer = { timer, resolve };
    });
  }

  /** Stops taking events; the batch being applied finishes, and the position is written. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    if (this.retryTimer) {
      clearTimeout(this.retryTimer.timer);
      this.retryTimer.resolve();
    }
    await this.loop;
    clearTimeout(this.positionTimer);
    this.positionTimer = undefined;
    await this.writePosition().catch((err: unknown) => this.log.warn({ err: (err as Error)?.message }, "projection position not written"));
  }
}
