import type { Event, EventData, EventType } from "../../events/types.ts";
import type { ActorContext, FollowUpOptions } from "../types.ts";

/**
 * What a stateful actor declares: the key expression its state is kept by (the forms of
 * `ordered.key`: `correlationid`, `source`, `type`, `subject`, `data.<path>`) and the state a key
 * starts with.
 */
export type StateSpec<TState> = Readonly<{ key: string; initial: TState | (() => TState) }>;

/** One key's state during a handling: read once before the handler, changes staged until commit. */
export interface StateHandle<TState> {
  /** The key this handling's event maps to. */
  readonly key: string;
  /** Revision of the state the handler sees (0: never written, the initial state). */
  readonly revision: number;
  get(): TState;
  set(next: TState): void;
  delete(): void;
}

/** When a timer fires: after a duration (`"15m"`, milliseconds) or at a time. */
export type TimerWhen = Readonly<{ in: string | number }> | Readonly<{ at: Date }>;

/** A follow-up event staged by ctx.publish: it exists only once the handling commits. */
export type StagedEvent = Readonly<{ id: string; staged: true }>;

/** The ctx of a stateful actor: its state, its timers, and follow-ups that are part of the outcome. */
export type StatefulContext<TState> = Omit<ActorContext, "publish"> &
  Readonly<{
    state: StateHandle<TState>;
    /** Stages a follow-up event, published once the state change commits (id derived from this event's id). */
    publish<K extends EventType>(type: K, data: EventData<K>, opts?: FollowUpOptions): Promise<StagedEvent>;
    /** Stages a durable timer; returns its id (also the id of the event it publishes). */
    schedule<K extends EventType>(type: K, data: EventData<K>, when: TimerWhen): string;
    /** Stages the cancellation of a timer scheduled earlier (by any handling of this actor). */
    cancel(timerId: string): void;
  }>;

/** A stateful handler: resolve to commit (state, marker and outbox at once) and ack; throw to fail. */
export type StatefulHandleFn<TState, TData = unknown> = (event: Event<TData>, ctx: StatefulContext<TState>) => Promise<void>;

/** What one handling leaves to do after its commit, stored in its processed marker. */
export type OutboxItem =
  | Readonly<{ kind: "event"; event: Event }>
  | Readonly<{ kind: "schedule"; timerId: string; at: string; event: Event }>
  | Readonly<{ kind: "cancel"; timerId: string }>;

/** The value of a stateful actor's processed marker (`m.<event id token>` in its state bucket). */
export type StateMarker = Readonly<{ at: string; replica: string; key: string; outbox: readonly OutboxItem[] }>;

/** The staged change of one handling. `undefined` next: unchanged. */
export type StagedChange<TState> = Readonly<{ kind: "unchanged" } | { kind: "set"; value: TState } | { kind: "delete" }>;

/** One stored revision of a key's state, for `jetbus state history`. */
export type StateRevision = Readonly<{ revision: number; time: Date; eventId?: string; deleted: boolean; value?: unknown }>;

/** One key's current state, as the newest message of its subject holds it, with the event that wrote it. */
export type StateEntry = Readonly<{ key: string; revision: number; time: Date; eventId?: string; value: unknown }>;

/** The keys of one actor that hold a state: the `limit` most recently changed ones, and how many there are in all. */
export type StateListing = Readonly<{ entries: readonly StateEntry[]; total: number }>;
