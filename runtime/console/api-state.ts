import { StateStore } from "../actor/state/store.ts";
import { stateHistoryReport, stateListReport } from "../actor/state/report.ts";
import { NotFoundError, UsageError } from "../errors.ts";
import type { ConsoleContext } from "./context.ts";

/** Keys listed at most: the most recently changed ones (the page says how many there are in all). */
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
/** The actor name pattern of schemas/actor.schema.json: anything else cannot name a state bucket. */
const ACTOR_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function limitOf(q: URLSearchParams): number {
  const raw = q.get("limit");
  if (raw === null || raw === "") return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
    throw new UsageError(`limit must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * GET /api/state?actor=NAME: a stateful actor's keys with their state, revision and the event that
 * last changed each (`stateful: false` for an actor without a state bucket); with `&key=KEY`, that
 * key's stored revisions. Read-only, through the same StateStore reads as `jetbus state`.
 */
export async function stateOf(ctx: ConsoleContext, q: URLSearchParams) {
  const actor = q.get("actor")?.trim() ?? "";
  if (!ACTOR_NAME.test(actor)) throw new UsageError(`actor must be an actor name (${ACTOR_NAME.source}), got ${JSON.stringify(actor)}`);
  const key = q.get("key");
  const limit = limitOf(q);
  let store: StateStore;
  try {
    store = await StateStore.bind(ctx.nc, actor);
  } catch (err) {
    if (err instanceof NotFoundError) return { actor, stateful: false };
    throw err;
  }
  if (key !== null) {
    const revisions = await store.history(key);
    if (revisions.length === 0) throw new NotFoundError(`actor "${actor}" has no revisions for key ${JSON.stringify(key)}`);
    return { stateful: true, ...stateHistoryReport(actor, key, revisions) };
  }
  return { stateful: true, limit, ...stateListReport(actor, await store.list(limit)) };
}
