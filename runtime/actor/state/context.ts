import type { ActorContext, FollowUpOptions } from "../types.ts";
import { parseDuration } from "../../config/duration.ts";
import { createEvent } from "../../events/codec.ts";
import type { Event, EventData } from "../../events/types.ts";
import { UsageError } from "../../errors.ts";
import type { OutboxItem, StagedChange, StagedEvent, StateHandle, StatefulContext, TimerWhen } from "./types.ts";

/**
 * The state a handler sees and changes, staged until the commit. `read` gives the revision's state
 * as a fresh value (parsed from its JSON on the first get): the handler may change the object it
 * gets without touching the copy a worker keeps in memory.
 */
export class StagedState<TState> implements StateHandle<TState> {
  change: StagedChange<TState> = { kind: "unchanged" };
  private current?: { value: TState };

  constructor(
    readonly key: string,
    readonly revision: number,
    private readonly read: () => TState,
    private readonly initial: () => TState,
  ) {}

  get(): TState {
    if (this.change.kind === "set") return this.change.value;
    if (this.change.kind === "delete") return this.initial();
    this.current ??= { value: this.read() };
    return this.current.value;
  }

  set(next: TState): void {
    if (next === undefined) throw new UsageError("ctx.state.set(undefined): use ctx.state.delete() to remove a key's state");
    this.change = { kind: "set", value: next };
  }

  delete(): void {
    this.change = { kind: "delete" };
  }
}

/**
 * The ctx of one stateful handling. Follow-ups, timers and cancellations are staged in an outbox
 * that is stored with the processed marker and carried out after the commit, so they happen iff
 * the state change does. Ids are derived from the event id in staging order (`<id>:e1`, `<id>:t1`):
 * a handling run again after a conflict or a crash stages the same ids, and the store's and the
 * timer stream's dedupe keep each once.
 */
export class StatefulDelivery<TState> implements StatefulContext<TState> {
  readonly outbox: OutboxItem[] = [];
  private events = 0;
  private timers = 0;

  constructor(
    private readonly event: Event,
    private readonly inner: ActorContext,
    readonly state: StagedState<TState>,
    private readonly now: () => number = Date.now,
  ) {}

  get actor() {
    return this.inner.actor;
  }
  get replica() {
    return this.inner.replica;
  }
  get deliveryCount() {
    return this.inner.deliveryCount;
  }
  get streamSeq() {
    return this.inner.streamSeq;
  }
  get originSeq() {
    return this.inner.originSeq;
  }
  get options() {
    return this.inner.options;
  }
  get logger() {
    return this.inner.logger;
  }
  get signal() {
    return this.inner.signal;
  }
  working(): void {
    this.inner.working();
  }

  publish<K extends string>(type: K, data: EventData<K>, opts: FollowUpOptions = {}): Promise<StagedEvent> {
    try {
      const next = this.followUp(type, data, opts.id ?? `${this.event.id}:e${++this.events}`, opts.source, opts.dataVersion);
      this.outbox.push({ kind: "event", event: next });
      return Promise.resolve({ id: next.id, staged: true });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  schedule<K extends string>(type: K, data: EventData<K>, when: TimerWhen): string {
    const at = "at" in when ? when.at : new Date(this.now() + parseDuration(when.in, `ctx.schedule(${type}) "in"`));
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new UsageError(`ctx.schedule(${type}): "at" must be a valid Date`);
    const timerId = `${this.event.id}:t${++this.timers}`;
    this.outbox.push({ kind: "schedule", timerId, at: at.toISOString(), event: this.followUp(type, data, timerId) });
    return timerId;
  }

  cancel(timerId: string): void {
    this.outbox.push({ kind: "cancel", timerId });
  }

  private followUp<D>(type: string, data: D, id: string, source?: string, dataVersion?: number): Event {
    const e = this.event;
    return createEvent({
      type,
      data,
      id,
      source: source ?? this.inner.actor,
      correlationid: e.correlationid,
      causationid: e.id,
      traceparent: e.traceparent,
      dataversion: dataVersion,
    });
  }
}
