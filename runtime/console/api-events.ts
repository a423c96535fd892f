import { UsageError } from "../errors.ts";
import { EventStore } from "../store/queries.ts";
import type { StoredEvent } from "../store/types.ts";
import { compileRuleSet } from "../routing/plan.ts";
import { parseReplayPoint } from "../operations/replay-range.ts";
import { readDeadLetters, readMarkers } from "../operations/trace-facts.ts";
import { storeCorrelationLookup } from "../operations/store-lookup.ts";
import { actorsWithMarkers } from "../operations/trace-facts.ts";
import { orMissing } from "../nats/missing.ts";
import { findSetAside } from "../operations/set-aside.ts";
import type { ConsoleContext } from "./context.ts";

const MAX_LIMIT = 500;

function time(q: URLSearchParams, name: string): Date | undefined {
  const v = q.get(name)?.trim();
  if (!v) return undefined;
  const p = parseReplayPoint(v, name);
  if (!("time" in p))
    throw new UsageError(`${name} must be a time (2026-01-31T12:00:00Z) or a duration ago (15m), got ${JSON.stringify(v)}`);
  return p.time;
}

function limitOf(q: URLSearchParams): number {
  const raw = q.get("limit");
  if (raw === null || raw === "") return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
    throw new UsageError(`limit must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(raw)}`);
  return n;
}

const view = (e: StoredEvent) => ({ seq: e.seq, subject: e.subject, stored: e.time.toISOString(), event: e.event });

/**
 * GET /api/events: by id, by correlation id, by type, or by time range (each optional and
 * combinable with since/until); with no filter, the newest events.
 */
export async function searchEvents(ctx: ConsoleContext, q: URLSearchParams) {
  const store = new EventStore(ctx.nc, { stream: ctx.deps.config.store.stream });
  const id = q.get("id")?.trim(),
    correlation = q.get("correlation")?.trim(),
    type = q.get("type")?.trim() || undefined;
  const since = time(q, "since"),
    until = time(q, "until"),
    limit = limitOf(q);
  if (id) {
    const e = await store.findById(id);
    return { events: e ? [view(e)] : [] };
  }
  if (correlation) {
    // indexes first whatever the indexer has not yet, as trace does: an event published a moment ago is found
    // (the store's lookup returns full stored events; the operations type only promises event and seq)
    const found = (await storeCorrelationLookup(ctx.nc, await ctx.jsm(), ctx.deps.config.store)(correlation)) as readonly StoredEvent[];
    const wanted = found.filter((e) => (!type || e.event.type === type) && (!since || e.time >= since) && (!until || e.time <= until));
    return { events: wanted.slice(0, limit).map(view) };
  }
  let fromSeq: number | undefined;
  if (!since) {
    // no start given: the newest `limit` events (of the type, approximately: a type page starts there too)
    const info = await orMissing(async () => (await ctx.jsm()).streams.info(ctx.deps.config.store.stream));
    if (!info) return { events: [] };
    fromSeq = type ? undefined : Math.max(info.state.first_seq, info.state.last_seq - limit + 1);
  }
  const out: StoredEvent[] = [];
  for await (const e of store.history({ type, since, until, fromSeq, limit: type && !since ? Number.POSITIVE_INFINITY : limit })) {
    out.push(e);
    // newest page of a type: keep only the last `limit` while streaming
    if (out.length > limit) out.shift();
  }
  return { events: out.map(view) };
}

/** GET /api/events/detail?seq=N: the stored message's headers, and where the event went. */
export async function eventDetail(ctx: ConsoleContext, q: URLSearchParams) {
  const seq = Number(q.get("seq"));
  if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`seq must be a store sequence >= 1, got ${JSON.stringify(q.get("seq"))}`);
  const store = new EventStore(ctx.nc, { stream: ctx.deps.config.store.stream });
  const raw = await store.getRaw(seq);
  const stored = await store.getBySeq(seq);
  const jsm = await ctx.jsm();
  // what the router set aside (quarantined with a reason, or unrouted), found by store sequence
  const setAside = (await findSetAside(ctx.nc, jsm, ctx.deps.config.store.stream, { seqs: new Set([seq]) })).map((x) => ({
    ...x,
    time: x.time.toISOString(),
  }));
  if (!stored) return { seq, headers: raw.headers, malformed: true, setAside, body: new TextDecoder().decode(raw.data).slice(0, 4096) };
  const live = await ctx.live();
  const copies = compileRuleSet(live.config, live.revision ?? 0).plan(stored.event);
  const actors = [...new Set([...live.config.actors.map((a) => a.name), ...(await actorsWithMarkers(jsm))])];
  const [handled, deadLetters] = await Promise.all([
    readMarkers(jsm, actors, [stored.event.id]),
    readDeadLetters(ctx.nc, jsm, new Set([stored.event.id])),
  ]);
  const routes = copies.map((c) => ({
    rule: c.rule,
    actor: c.actor,
    subject: c.subject,
    handled: handled.find((h) => h.actor === c.actor) ?? null,
    deadLetters: deadLetters.filter((d) => d.actor === c.actor),
  }));
  return {
    ...view(stored),
    headers: raw.headers,
    revision: live.revision,
    unrouted: copies.length === 0,
    routes,
    handled,
    deadLetters,
    setAside,
  };
}
