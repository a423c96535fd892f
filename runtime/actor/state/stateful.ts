import type { HandlerFn } from "../types.ts";
import { deliveredBy, screeningOf } from "../context.ts";
import { orderingKeyOf } from "../ordering.ts";
import { tokenFor } from "../../events/subjects.ts";
import type { Event } from "../../events/types.ts";
import { StateConflictError } from "../../errors.ts";
import { StagedState, StatefulDelivery } from "./context.ts";
import { OwnedStates, type Owned } from "./owned.ts";
import { flushOutbox, type OutboxDeps } from "./outbox.ts";
import type { StateSchemas } from "./schema.ts";
import type { StateRead, StateStore } from "./store.ts";
import type { StatefulHandleFn, StateMarker, StateSpec } from "./types.ts";

/** Commits lost to a concurrent change of the key before the delivery is failed (and retried after its backoff). */
const MAX_CONFLICTS = 5;

export type StatefulDeps = OutboxDeps &
  Readonly<{
    store: StateStore;
    /** How long markers (and outbox-flushed flags) are kept: idempotency.ttl. */
    markerTtlMs: number;
    schemas?: StateSchemas;
    /** Keys whose state is kept in memory at most (the least recently used go first); 10,000 by default. */
    maxKeysInMemory?: number;
  }>;

/**
 * A stateful handler as a plain handler the worker runs. The keys of an ordered partition come
 * one at a time, so the worker that takes a partition's deliveries in a row owns their state: it
 * keeps it in memory (OwnedStates) and reads the bucket only on a key's first touch, when another
 * worker may have had the partition in between, or after a lost commit. A handling is then ONE
 * guarded write (StateStore.commit): the state with its marker, checked against the revision the
 * handler saw, so a stale memory can cost a re-run, never a lost update.
 *
 * Where a duplicate is possible (the worker's screen: a redelivery, a dup-check copy, a replay;
 * always when the ctx comes from elsewhere) the processed marker and the key's state are read
 * first (at once): a handling that committed is never run again (its outbox is finished if
 * needed, and the delivery acked); the key's last state message answers for a marker not written
 * on its own yet. Only after the commit are follow-ups published and timers stored, and the
 * worker acks only after that.
 */
export function statefulHandler<TState>(spec: StateSpec<TState>, handle: StatefulHandleFn<TState>, deps: StatefulDeps): HandlerFn {
  const initial = typeof spec.initial === "function" ? (spec.initial as () => TState) : () => structuredClone(spec.initial as TState);
  const owned = new OwnedStates(deps.maxKeysInMemory ?? 10_000);
  const reread = async (key: string, by: ReturnType<typeof deliveredBy>): Promise<Owned> =>
    owned.fromRead(key, await deps.store.read(key), by);
  return async (event, ctx) => {
    const eventToken = tokenFor(event.id);
    const key = orderingKeyOf(spec.key, event);
    const by = deliveredBy(ctx);
    owned.observe(by);
    let entry: Owned | undefined;
    if (screeningOf(ctx)?.duplicatePossible !== false) {
      const [done, read] = await Promise.all([deps.store.marker(eventToken), deps.store.read(key)]);
      if (done) return finish(deps, eventToken, done);
      if (read.writtenBy?.eventId === event.id && read.writtenBy.marker) return processed(deps, eventToken, read.writtenBy.marker);
      entry = owned.fromRead(key, read, by);
    } else entry = owned.get(key, by) ?? (await reread(key, by));
    for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
      if (attempt > 1) entry = await reread(key, by);
      const current = entry;
      const stored = current.text;
      const state = new StagedState<TState>(
        key,
        current.revision,
        stored === undefined ? initial : () => JSON.parse(stored) as TState,
        initial,
      );
      const staged = new StatefulDelivery<TState>(event, ctx, state);
      await handle(event, staged);
      const change = state.change;
      if (change.kind === "set") deps.schemas?.check(deps.actor, change.value);
      const text = change.kind === "set" ? JSON.stringify(change.value) : undefined;
      const marker: StateMarker = { at: new Date().toISOString(), replica: ctx.replica, key, outbox: staged.outbox };
      const result = await deps.store.commit({
        eventToken,
        eventId: event.id,
        key,
        revision: current.revision,
        change,
        text,
        marker,
        markerTtlMs: deps.markerTtlMs,
        pending: current.pending,
      });
      if (result.kind === "committed") {
        if (result.pendingError !== undefined)
          ctx.logger.warn({ key, err: (result.pendingError as Error)?.message }, "the previous handling's processed marker was not stored");
        if (change.kind !== "unchanged") owned.committed(key, current, result.revision, text, { eventToken, marker });
        return finish(deps, eventToken, marker, true);
      }
      owned.forget(key);
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

export type { Event, StateRead };
