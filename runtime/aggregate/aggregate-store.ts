import type { NatsConnection } from "@nats-io/transport-node";
import { AggregateConflictError, AggregateInvalidError, EventTooLargeError } from "../errors.ts";
import { createEvent } from "../events/codec.ts";
import { entityFilter } from "../events/subjects.ts";
import type { Event } from "../events/types.ts";
import { createLogger, type Logger } from "../log.ts";
import { EventSchemas } from "../store/schemas.ts";
import { Streams } from "../topology.ts";
import { entityWire, publishGuarded, type Wire } from "./append.ts";
import { isAggregate, type Aggregate, type AggregateEvent, type Recorded } from "./define.ts";
import { foldEntity, type Folded, type FoldStart } from "./fold.ts";
import { entityMessageOf, readEntityMessages, type EntityMessage } from "./read.ts";
import { Snapshots } from "./snapshots.ts";

export type AggregateStoreOptions = Readonly<{
  /** The event store stream (store.stream); default EVENTS. */
  stream?: string;
  /** Default `source` of the events commands produce. */
  source?: string;
  /** store.max_msg_size: a decided event bigger than this is refused before anything is stored. */
  maxMsgSize?: number;
  /** The project's event schemas (default `schemas/events` under the working directory): decided events are checked as published ones are. */
  schemas?: EventSchemas;
  /** Replicas of the snapshot buckets this store creates (store.replicas); default 1. */
  snapshotReplicas?: number;
  /**
   * Entities whose state after this process's last command is kept (the most recently used ones;
   * default 1,000, 0: none). A command on a kept entity is decided on that state and appended at
   * once, without a load: if another writer appended meanwhile, the server refuses the append and
   * the command is decided again on a fresh load. A refusal (decide throws) or an empty decision
   * on a kept state is checked on a fresh load too, and the command ids of the entity are kept
   * with it, so a command id is recognised as a load would. Treat states as immutable: `evolve` returns a new one, and a
   * result's `state` is the one kept.
   */
  cacheSize?: number;
  logger?: Logger;
}>;

export type ExecuteOptions = Readonly<{
  /**
   * The command's own id. A command run again with the same id (a client retrying after a
   * timeout, a handler running again after a crash) stores nothing new and answers `duplicate`:
   * recognised among the entity's events a load reads (all of them without snapshots, those after
   * the snapshot with them), and by the store's duplicate window (`store.duplicate_window`, 2
   * minutes by default), which knows the command's event ids (`<aggregate>/<entity>/<command id>/<n>`).
   * Past both, a command id older than the entity's snapshot is not recognised.
   */
  commandId?: string;
  /** Correlation id of every event of the command; default the id of its first event. */
  correlationId?: string;
  causationId?: string;
  source?: string;
  traceparent?: string;
  /** Times a command that lost to another writer is decided again on fresh state before AggregateConflictError; default 10. */
  retries?: number;
  /** Fail at once with AggregateConflictError unless the entity is at this version (events so far): the client's own optimistic check. */
  expectedVersion?: number;
}>;

/** An entity's state, with how many events made it and the store sequence of the last one (0: none yet). */
export type EntityState<S> = Readonly<{ state: S; version: number; seq: number }>;

export type ExecuteResult<S, E extends AggregateEvent> = EntityState<S> &
  Readonly<{
    /** The events the command stored (none when decide returned none). */
    events: readonly Recorded<E>[];
    /** The command id was applied before: nothing new stored; `events` are those it stored then, when a load read them (none when only the duplicate window knew it). */
    duplicate: boolean;
    /** 1, plus one per conflict with another writer. */
    attempts: number;
  }>;

/** A point in an entity's history: a time (as the store recorded its events), a store sequence, or a version. */
export type PointInTime = Readonly<{ at?: Date; seq?: number; version?: number }>;

export type HistoryEntry<E extends AggregateEvent> = Readonly<{
  event: Recorded<E>;
  /** When the store recorded it. */
  storedAt: Date;
  /** The version it was stored at (its `dataversion` is the one evolve saw, after upcasting). */
  storedVersion: number;
}>;

export type EntityHistory<S, E extends AggregateEvent> = EntityState<S> &
  Readonly<{
    /** The events that made the state, oldest first. */
    entries: readonly HistoryEntry<E>[];
    /** Events of the entity after the point. */
    later: number;
  }>;

const DEFAULT_RETRIES = 10;
/** Command ids kept per entity at most; an entity with more is loaded for each command (as without the cache). */
const MAX_KEPT_COMMANDS = 10_000;

/**
 * An entity's state after this process's last command on it, and the ids of the commands among
 * the events a load would read (those after its snapshot): what a load would have found.
 */
type Kept = EntityState<unknown> & Readonly<{ commands: Set<string> }>;
const DEFAULT_CACHE = 1000;
/** Re-reads of an entity that trails a sequence the server reported (a replica behind its leader), 20 ms apart. */
const STALE_READS = 25;
/** Loads that find another writer's unfinished decision and store its rest before giving up. */
const COMPLETE_ROUNDS = 10;

type AnyAggregate = Aggregate<unknown, unknown, AggregateEvent>;
type Appended =
  | Readonly<{ kind: "stored"; seqs: readonly number[] }>
  /** The store already held the decision's first event id (a command id run again inside the duplicate window). */
  | Readonly<{ kind: "duplicate"; seq: number }>
  | Readonly<{ kind: "conflict"; lastSeq?: number }>
  /** The first event of a decision of several was stored, a later one met another writer (completing it). */
  | Readonly<{ kind: "partial"; seq: number }>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Event-sourced entities on the event store. Each entity's events are stored on its own
 * subjects (`events.@.<aggregate>.<entity>.<type>`, runtime/events/subjects.ts) and are ordinary
 * jetbus events: routed to actors, found by id, type and correlation.
 *
 * `execute` loads the entity (its snapshot, if any, then the events after it: one batched direct
 * get), runs `decide`, and appends the events only if nobody appended to the entity since the
 * load: every append carries `Nats-Expected-Last-Subject-Sequence` over the entity's subjects,
 * so the server refuses a stale writer. A refused command is decided again on fresh state.
 */
export class AggregateStore {
  readonly stream: string;
  private readonly schemas: EventSchemas;
  private readonly logger: Logger;
  private readonly snapshots = new Map<string, Snapshots>();
  /** Commands on one entity in this process, one after another: they would only conflict with each other. */
  private readonly queues = new Map<string, Promise<void>>();
  /** The state after this process's last command per entity, most recently used last. */
  private readonly cache = new Map<string, Kept>();
  private readonly cacheSize: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: AggregateStoreOptions = {},
  ) {
    this.stream = opts.stream ?? Streams.Events;
    this.schemas = opts.schemas ?? new EventSchemas();
    this.logger = opts.logger ?? createLogger({ level: "silent" });
    this.cacheSize = opts.cacheSize ?? DEFAULT_CACHE;
  }

  /**
   * Runs a command on entity `id`: decide on its current state, append the events unless another
   * writer got there first (then again on fresh state, `retries` times), and answer with the new
   * state. An error thrown by `decide` reaches the caller with nothing stored.
   */
  execute<S, C, E extends AggregateEvent>(
    aggregate: Aggregate<S, C, E>,
    id: string,
    command: C,
    o: ExecuteOptions = {},
  ): Promise<ExecuteResult<S, E>> {
    const agg = checked(aggregate);
    const key = `${agg.name}\u0000${id}`;
    const run = () => this.executeNow(aggregate, key, id, command, o);
    const queued = this.queues.get(key);
    const result = queued ? queued.then(run) : run();
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return result;
  }

  private async executeNow<S, C, E extends AggregateEvent>(
    aggregate: Aggregate<S, C, E>,
    key: string,
    id: string,
    command: C,
    o: ExecuteOptions,
  ): Promise<ExecuteResult<S, E>> {
    const agg = checked(aggregate);
    const retries = o.retries ?? DEFAULT_RETRIES;
    // ids of events this call sent that may be stored (a resend after a timeout answers as a conflict)
    const mine = new Set<string>();
    let minSeq = 0;
    const kept = this.cache.get(key);
    // the state the next decision starts from, and whether the events after it must be read first:
    // a kept state is decided on as it is (the append checks it); after a conflict only the events
    // since are read and folded on, not the whole entity
    let base: Folded<S> | undefined = kept ? { ...(kept as Kept & { state: S }), events: [], commands: new Map(), after: 0 } : undefined;
    let known = kept ? kept.commands : new Set<string>();
    let stale = false;
    for (let attempt = 1; ; attempt++) {
      let cur: Folded<S>;
      if (base === undefined) {
        cur = (await this.loadForWrite(agg, id, minSeq)) as Folded<S>;
        known = new Set(cur.commands.keys());
      } else if (stale) {
        const caught = await this.catchUp(agg, id, base, minSeq);
        cur = caught.folded as Folded<S>;
        // a whole load read every command after the entity's snapshot: what is known is exactly those
        if (caught.whole) known = new Set();
        for (const c of cur.commands.keys()) known.add(c);
      } else cur = base;
      const fresh = base === undefined || stale;
      const found = this.stored(cur, mine, o.commandId);
      if (found) return { ...stateOf(cur), events: found.events as Recorded<E>[], duplicate: found.duplicate, attempts: attempt };
      if (o.commandId !== undefined && known.has(o.commandId)) {
        // run before, its events before those just read: a whole load has them to answer with
        base = undefined;
        attempt--;
        continue;
      }
      let list: readonly E[];
      try {
        if (o.expectedVersion !== undefined && cur.version !== o.expectedVersion)
          throw new AggregateConflictError(
            agg.name,
            id,
            attempt,
            `expected version ${o.expectedVersion}, the entity is at version ${cur.version}`,
          );
        const decided = await aggregate.decide(command, cur.state, { id, version: cur.version });
        list = (Array.isArray(decided) ? decided : [decided]) as readonly E[];
      } catch (err) {
        if (fresh) throw err;
        // a refusal on the kept state is checked on a fresh read: the server never saw that state
        [base, stale] = [cur, true];
        attempt--;
        continue;
      }
      if (list.length === 0) {
        if (fresh) return { ...stateOf(cur), events: [], duplicate: false, attempts: attempt };
        // as is "nothing to do": no append confirms the kept state
        [base, stale] = [cur, true];
        attempt--;
        continue;
      }
      const events = this.build(agg, id, list, o);
      const wires = events.map((e, i) =>
        entityWire(agg.name, id, e, {
          command: o.commandId,
          index: i + 1,
          size: events.length,
          rest: i === 0 ? events.slice(1) : undefined,
        }),
      );
      this.checkSize(wires);
      const appended = await this.append(agg.name, id, wires, cur.seq);
      if (appended.kind === "stored")
        return this.remember(key, await this.committed(aggregate, id, cur, events, appended.seqs, attempt), known, o.commandId);
      // the command's events are stored already, before the entity's last sequence: in the state just decided on
      if (appended.kind === "duplicate") return { ...stateOf(cur), events: [], duplicate: true, attempts: attempt };
      this.cache.delete(key);
      for (const e of events) mine.add(e.id);
      [base, stale] = [cur, true];
      if (appended.kind === "partial") {
        minSeq = appended.seq;
        continue;
      }
      minSeq = appended.lastSeq ?? cur.seq + 1;
      if (attempt > retries) {
        // a conflict after a resend may be this call's own event: look once more before saying nothing was stored
        const last = (await this.catchUp(agg, id, cur, minSeq)).folded as Folded<S>;
        const mineAfterAll = this.stored(last, mine, o.commandId);
        if (mineAfterAll) return { ...stateOf(last), events: mineAfterAll.events as Recorded<E>[], duplicate: false, attempts: attempt };
        throw new AggregateConflictError(
          agg.name,
          id,
          attempt,
          `other writers appended to the entity before each of ${attempt} attempts; nothing of this command was stored`,
        );
      }
      // the first retry at once (one other writer is the common case), then jittered and growing
      if (attempt > 1) await sleep(Math.random() * Math.min(100, 2 ** attempt));
    }
  }

  /**
   * The entity's events after `base` folded onto it: what a conflict costs instead of a whole
   * load. An unfinished decision among them is a whole load's business (loadForWrite stores its rest).
   */
  private async catchUp(
    agg: AnyAggregate,
    id: string,
    base: Folded<unknown>,
    minSeq: number,
  ): Promise<{ folded: Folded<unknown>; whole: boolean }> {
    const cur = await this.read(agg, id, stateOf(base), minSeq);
    return cur.open ? { folded: await this.loadForWrite(agg, id, minSeq), whole: true } : { folded: cur, whole: false };
  }

  private remember<R extends EntityState<unknown>>(key: string, r: R, commands: Set<string>, commandId: string | undefined): R {
    this.cache.delete(key);
    if (commandId !== undefined) commands.add(commandId);
    if (this.cacheSize <= 0 || commands.size > MAX_KEPT_COMMANDS) return r;
    this.cache.set(key, { state: r.state, version: r.version, seq: r.seq, commands });
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return r;
  }

  /** The entity's current state (from its snapshot, if any, and the events after it). Reads only. */
  async load<S, C, E extends AggregateEvent>(aggregate: Aggregate<S, C, E>, id: string): Promise<EntityState<S>> {
    const agg = checked(aggregate);
    return stateOf((await this.read(agg, id, await this.startOf(agg, id), 0)) as Folded<S>);
  }

  /**
   * Time travel: the entity's state as of a point (a time as the store recorded its events, a
   * store sequence, or a version), with the events that made it. Reads every event up to the
   * point (never a snapshot: the history is the answer). No point: now.
   */
  async history<S, C, E extends AggregateEvent>(
    aggregate: Aggregate<S, C, E>,
    id: string,
    point: PointInTime = {},
  ): Promise<EntityHistory<S, E>> {
    const agg = checked(aggregate);
    const messages = await this.messages(agg.name, id, 1);
    const { at, seq, version } = point;
    const atMs = at?.getTime();
    const stop = (m: EntityMessage, v: number) =>
      (seq !== undefined && m.seq > seq) || (atMs !== undefined && m.time.getTime() > atMs) || (version !== undefined && v > version);
    const folded = foldEntity(aggregate, { state: aggregate.initial(), version: 0, seq: 0 }, messages, stop);
    return {
      ...stateOf(folded),
      entries: folded.events.map((event, i) => ({
        event: event as Recorded<E>,
        storedAt: messages[i]!.time,
        storedVersion: messages[i]!.storedVersion,
      })),
      later: folded.after,
    };
  }

  /** A load that may append: another writer's unfinished decision at the end is stored first (all of it or none is the rule). */
  private async loadForWrite(agg: AnyAggregate, id: string, minSeq: number): Promise<Folded<unknown>> {
    let start = await this.startOf(agg, id);
    for (let round = 0; ; round++) {
      const cur = await this.read(agg, id, start, minSeq);
      if (!cur.open) return cur;
      if (round >= COMPLETE_ROUNDS)
        throw new AggregateConflictError(agg.name, id, round, `could not store the rest of an unfinished decision in ${round} rounds`);
      const { open } = cur;
      this.logger.warn(
        { aggregate: agg.name, id, missing: open.missing.length },
        "storing the rest of a decision its writer did not finish",
      );
      const wires = open.missing.map((e, i) =>
        entityWire(agg.name, id, e, { command: open.command, index: open.size - open.missing.length + i + 1, size: open.size }),
      );
      const appended = await this.append(agg.name, id, wires, cur.seq);
      minSeq =
        appended.kind === "stored"
          ? appended.seqs[appended.seqs.length - 1]!
          : appended.kind === "partial" || appended.kind === "duplicate"
            ? appended.seq
            : (appended.lastSeq ?? 0);
      // read again from where the fold started: the stored rest folds like any event
      start = await this.startOf(agg, id);
    }
  }

  /** The fold of the entity's events after `start`; waits (briefly) for a replica that trails `minSeq`. */
  private async read(agg: AnyAggregate, id: string, start: FoldStart<unknown>, minSeq: number): Promise<Folded<unknown>> {
    for (let tries = 0; ; tries++) {
      const messages = await this.messages(agg.name, id, start.seq + 1);
      const last = messages.length > 0 ? messages[messages.length - 1]!.seq : start.seq;
      if (last < minSeq && tries < STALE_READS) {
        await sleep(20);
        continue;
      }
      return foldEntity(agg, start, messages);
    }
  }

  private async messages(aggregate: string, id: string, fromSeq: number): Promise<EntityMessage[]> {
    const raw = await readEntityMessages(this.nc, this.stream, entityFilter(aggregate, id), fromSeq);
    return raw.map((m) => entityMessageOf(m, this.stream));
  }

  /** Where a load starts: the entity's snapshot (of the aggregate's snapshot version), else nothing. */
  private async startOf(agg: AnyAggregate, id: string): Promise<FoldStart<unknown>> {
    const empty = { state: agg.initial(), version: 0, seq: 0 };
    if (!agg.snapshots) return empty;
    try {
      return (await this.snapshotsOf(agg).read(id, agg.snapshots.version ?? 1)) ?? empty;
    } catch (err) {
      this.logger.warn({ aggregate: agg.name, id, err: (err as Error).message }, "snapshot unreadable; loading every event");
      return empty;
    }
  }

  /** Events of this call (by id) or of an earlier run of the same command (by command id) among those just folded. */
  private stored(
    cur: Folded<unknown>,
    mine: ReadonlySet<string>,
    commandId: string | undefined,
  ): { events: Recorded[]; duplicate: boolean } | undefined {
    if (mine.size > 0) {
      const events = cur.events.filter((e) => mine.has(e.id));
      if (events.length > 0) return { events, duplicate: false };
    }
    const earlier = commandId === undefined ? undefined : cur.commands.get(commandId);
    return earlier ? { events: [...earlier], duplicate: true } : undefined;
  }

  /** Guarded appends of one decision, each expecting the one before: the first against the entity's last sequence as loaded. */
  private async append(aggregate: string, id: string, wires: readonly Wire[], expected: number): Promise<Appended> {
    const filter = entityFilter(aggregate, id);
    const seqs: number[] = [];
    for (const wire of wires) {
      const out = await publishGuarded(this.nc, wire, filter, expected);
      if (out.kind === "conflict")
        return seqs.length === 0 ? { kind: "conflict", lastSeq: out.lastSeq } : { kind: "partial", seq: seqs[0]! };
      if (out.duplicate && seqs.length === 0) return { kind: "duplicate", seq: out.seq };
      seqs.push(out.seq);
      expected = out.seq;
    }
    return { kind: "stored", seqs };
  }

  private build(agg: AnyAggregate, id: string, decided: readonly AggregateEvent[], o: ExecuteOptions): Event[] {
    const events: Event[] = [];
    for (const [i, d] of decided.entries()) {
      if (typeof d !== "object" || d === null || typeof d.type !== "string")
        throw new AggregateInvalidError(`${agg.name}: decide returned ${JSON.stringify(d)} at [${i}]; an event is { type, data }`);
      const event = createEvent({
        type: d.type,
        data: d.data,
        // with a command id, ids the store's duplicate window recognises when the command runs again
        id: o.commandId === undefined ? undefined : `${agg.name}/${id}/${o.commandId}/${i + 1}`,
        subject: id,
        source: o.source ?? this.opts.source,
        correlationid: o.correlationId ?? events[0]?.correlationid,
        causationid: o.causationId,
        traceparent: o.traceparent,
      });
      this.schemas.checkEvent(event);
      events.push(event);
    }
    return events;
  }

  private checkSize(wires: readonly Wire[]): void {
    const limit = this.opts.maxMsgSize;
    if (limit === undefined || limit <= 0) return;
    for (const w of wires) if (w.data.length > limit) throw new EventTooLargeError(w.data.length, limit);
  }

  private async committed<S, C, E extends AggregateEvent>(
    aggregate: Aggregate<S, C, E>,
    id: string,
    cur: Folded<S>,
    events: readonly Event[],
    seqs: readonly number[],
    attempts: number,
  ): Promise<ExecuteResult<S, E>> {
    const now = new Date();
    const messages = events.map((event, i) => ({ event, storedVersion: event.dataversion, seq: seqs[i]!, time: now }));
    const after = foldEntity(aggregate, stateOf(cur), messages);
    const every = aggregate.snapshots?.every;
    if (every !== undefined && Math.floor(after.version / every) > Math.floor(cur.version / every)) {
      const snap = { state: after.state, version: after.version, seq: after.seq, snapshotVersion: aggregate.snapshots?.version ?? 1 };
      // a snapshot only shortens later loads: a failed write costs nothing else
      await this.snapshotsOf(aggregate as AnyAggregate)
        .write(id, snap)
        .catch((err: unknown) => this.logger.warn({ aggregate: aggregate.name, id, err: (err as Error).message }, "snapshot not written"));
    }
    return { ...stateOf(after), events: after.events as Recorded<E>[], duplicate: false, attempts };
  }

  private snapshotsOf(agg: AnyAggregate): Snapshots {
    let s = this.snapshots.get(agg.name);
    if (!s) this.snapshots.set(agg.name, (s = new Snapshots(this.nc, agg.name, this.opts.snapshotReplicas ?? 1)));
    return s;
  }
}

function stateOf<S>(f: Readonly<{ state: S; version: number; seq: number }>): EntityState<S> {
  return { state: f.state, version: f.version, seq: f.seq };
}

function checked<S, C, E extends AggregateEvent>(aggregate: Aggregate<S, C, E>): AnyAggregate {
  if (!isAggregate(aggregate))
    throw new AggregateInvalidError("not an aggregate: pass what defineAggregate({ name, initial, evolve, decide }) returns");
  return aggregate as unknown as AnyAggregate;
}

const stores = new WeakMap<NatsConnection, AggregateStore>();

/** The AggregateStore of a connection with the default settings (store EVENTS), made once. */
function storeOf(nc: NatsConnection): AggregateStore {
  let s = stores.get(nc);
  if (!s) stores.set(nc, (s = new AggregateStore(nc)));
  return s;
}

/** `execute` on a connection, for code without an embedded jetbus: see AggregateStore.execute. */
export function execute<S, C, E extends AggregateEvent>(
  nc: NatsConnection,
  aggregate: Aggregate<S, C, E>,
  id: string,
  command: C,
  opts?: ExecuteOptions,
): Promise<ExecuteResult<S, E>> {
  return storeOf(nc).execute(aggregate, id, command, opts);
}

/** Time travel on a connection: see AggregateStore.history. */
export function aggregateHistory<S, C, E extends AggregateEvent>(
  nc: NatsConnection,
  aggregate: Aggregate<S, C, E>,
  id: string,
  point?: PointInTime,
): Promise<EntityHistory<S, E>> {
  return storeOf(nc).history(aggregate, id, point);
}
