import type { HandlerFn } from "../types.ts";
import { orderingKeyOf } from "../ordering.ts";
import { tokenFor } from "../../events/subjects.ts";
import type { Event } from "../../events/types.ts";
import { StateConflictError } from "../../errors.ts";
import { StagedState, StatefulDelivery } from "./context.ts";
import { flushOutbox, type OutboxDeps } from "./outbox.ts";
import type { StateSchemas } from "./schema.ts";
import type { StateStore } from "./store.ts";
import type { StatefulHandleFn, StateMarker, StateSpec } from "./types.ts";

/** Commits lost to a concurrent change of the key before the delivery is failed (and retried after its backoff). */
const MAX_CONFLICTS = 5;

export type StatefulDeps = OutboxDeps &
  Readonly<{
    store: StateStore;
    /** How long markers (and outbox-flushed flags) are kept: idempotency.ttl. */
    markerTtlMs: number;
    schemas?: StateSchemas;
  }>;

/**
 * A stateful handler as a plain handler the worker runs. The processed marker and the key's state
 * are read first (at once): a handling that committed is never run again (its outbox is finished
 * if needed, and the delivery acked); the key's last state message answers for a marker not yet
 * written (a crash between the two writes). Else the handler runs on a staged copy and its new
 * state, marker and outbox are committed at once (StateStore.commit). A lost commit re-runs the
 * handler on fresh state; only after the commit are follow-ups published and timers stored, and
 * the worker acks only after that.
 */
export function statefulHandler<TState>(spec: StateSpec<TState>, handle: StatefulHandleFn<TState>, deps: StatefulDeps): HandlerFn {
  const initial = typeof spec.initial === "function" ? (spec.initial as () => TState) : () => structuredClone(spec.initial as TState);
  return async (event, ctx) => {
    const eventToken = tokenFor(event.id);
    const key = orderingKeyOf(spec.key, event);
    const [done, first] = await Promise.all([deps.store.marker(eventToken), deps.store.read(key)]);
    if (done) return finish(deps, eventToken, done);
    if (first.writtenBy?.eventId === event.id && first.writtenBy.marker) return processed(deps, eventToken, first.writtenBy.marker);
    let read = first;
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      if (attempt > 1) read = await deps.store.read(key);
      const state = new StagedState<TState>(key, read.revision, read.exists ? (read.value as TState) : initial(), initial);
      const staged = new StatefulDelivery<TState>(event, ctx, state);
      await handle(event, staged);
      if (state.change.kind === "set") deps.schemas?.check(deps.actor, state.change.value);
      const marker: StateMarker = { at: new Date().toISOString(), replica: ctx.replica, key, outbox: staged.outbox };
      const result = await deps.store.commit({
        eventToken,
        eventId: event.id,
        key,
        revision: read.revision,
        change: state.change,
        marker,
        markerTtlMs: deps.markerTtlMs,
      });
      if (result.kind === "committed") return finish(deps, eventToken, marker, true);
      if (result.kind === "processed") return processed(deps, eventToken, result.marker);
      ctx.logger.debug({ key, attempt }, "state changed under the handling; running it again on fresh state");
    }
    throw new StateConflictError(deps.actor, key, MAX_CONFLICTS);
  };
}

/** Another handling of this event committed: make sure its marker exists, then finish its outbox. */
async function processed(deps: StatefulDeps, eventToken: string, marker: StateMarker): Promise<void> {
  await deps.store.writeMarker(eventToken, marker, deps.markerTtlMs);
  return finish(deps, eventToken, marker);
}

/** Carries out a committed handling's outbox once: a flag after the flush keeps later redeliveries from repeating it. */
async function finish(deps: StatefulDeps, eventToken: string, marker: StateMarker, fresh = false): Promise<void> {
  if (marker.outbox.length === 0) return;
  if (!fresh && (await deps.store.flushed(eventToken))) return;
  await flushOutbox(deps, marker.outbox);
  await deps.store.markFlushed(eventToken, deps.markerTtlMs);
}

export type { Event };
