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
 * A stateful handler as a plain handler the worker runs: the processed marker is read first (a
 * handling that committed is never run again: its outbox is finished if needed, and the delivery
 * acked); else the key's state is read, the handler runs on a staged copy, and the new state,
 * the marker and the outbox are committed at once (StateStore.commit). A lost commit re-runs the
 * handler on fresh state; only after the commit are follow-ups published and timers stored, and
 * the worker acks only after that.
 */
export function statefulHandler<TState>(spec: StateSpec<TState>, handle: StatefulHandleFn<TState>, deps: StatefulDeps): HandlerFn {
  const initial = typeof spec.initial === "function" ? (spec.initial as () => TState) : () => structuredClone(spec.initial as TState);
  return async (event, ctx) => {
    const eventToken = tokenFor(event.id);
    const done = await deps.store.marker(eventToken);
    if (done) return finish(deps, eventToken, done);
    const key = orderingKeyOf(spec.key, event);
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      const read = await deps.store.read(key);
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
      if (result === "committed") return finish(deps, eventToken, marker, true);
      if (result === "processed") return finish(deps, eventToken, (await deps.store.marker(eventToken))!);
      ctx.logger.debug({ key, attempt }, "state changed under the handling; running it again on fresh state");
    }
    throw new StateConflictError(deps.actor, key, MAX_CONFLICTS);
  };
}

/** Carries out a committed handling's outbox once: a flag after the flush keeps later redeliveries from repeating it. */
async function finish(deps: StatefulDeps, eventToken: string, marker: StateMarker, fresh = false): Promise<void> {
  if (marker.outbox.length === 0) return;
  if (!fresh && (await deps.store.flushed(eventToken))) return;
  await flushOutbox(deps, marker.outbox);
  await deps.store.markFlushed(eventToken, deps.markerTtlMs);
}

export type { Event };
