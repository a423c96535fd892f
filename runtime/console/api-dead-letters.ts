import { listDeadLetters, replayDeadLetters } from "../actor/dead-letter.ts";
import { UsageError } from "../errors.ts";
import type { ConsoleContext } from "./context.ts";
import { readHeld } from "./held-messages.ts";
import { listSetAside, SetAsideKind } from "../operations/set-aside.ts";
import { replayUnrouted } from "../operations/unrouted-replay.ts";
import { replayQuarantined } from "../operations/quarantine-replay.ts";
import { compileRuleSet } from "../routing/plan.ts";
import { EventSchemas } from "../store/schemas.ts";

export const HeldKind = { Dlq: "dlq", Unrouted: "unrouted", Quarantine: "quarantine" } as const;
export type HeldKind = (typeof HeldKind)[keyof typeof HeldKind];

const LIST_LIMIT = 200;

/** GET /api/dead-letters?kind=dlq|unrouted|quarantine[&actor=A]: what is held, with why. */
export async function listHeld(ctx: ConsoleContext, q: URLSearchParams) {
  const kind = (q.get("kind") ?? HeldKind.Dlq) as HeldKind;
  if (kind === HeldKind.Dlq) {
    const rows = await listDeadLetters(ctx.nc, { actor: q.get("actor") || undefined, limit: LIST_LIMIT });
    return { kind, items: rows.map((d) => ({ ...d, time: d.time.toISOString() })) };
  }
  if (kind === HeldKind.Unrouted) return { kind, items: await readHeld(ctx, SetAsideKind.Unrouted, LIST_LIMIT) };
  if (kind === HeldKind.Quarantine) return { kind, items: await readHeld(ctx, SetAsideKind.Quarantine, LIST_LIMIT) };
  throw new UsageError(`kind must be one of ${Object.values(HeldKind).join(", ")}, got ${JSON.stringify(kind)}`);
}

/**
 * POST /api/dead-letters/replay {ids: [dlq seq or event id, ...]} or {actor}: back to the actor's
 * inbox, removed from the DLQ once the inbox acked the copy (replayDeadLetters).
 */
export async function replayHeld(ctx: ConsoleContext, body: Record<string, unknown>) {
  const kind = (body.kind ?? HeldKind.Dlq) as HeldKind;
  if (kind === HeldKind.Unrouted || kind === HeldKind.Quarantine) return replaySetAside(ctx, kind, body);
  if (kind !== HeldKind.Dlq) throw new UsageError(`kind must be one of ${Object.values(HeldKind).join(", ")}, got ${JSON.stringify(kind)}`);
  const ids = Array.isArray(body.ids) ? body.ids.map(String) : [];
  const actor = typeof body.actor === "string" && body.actor ? body.actor : undefined;
  if (ids.length === 0 && !actor) throw new UsageError("replay needs ids (DLQ sequences or event ids) or an actor");
  const { config } = await ctx.live();
  const replayed = [];
  if (ids.length === 0) replayed.push(...(await replayDeadLetters(ctx.nc, config.actors, { actor })));
  for (const id of ids) replayed.push(...(await replayDeadLetters(ctx.nc, config.actors, { id, actor })));
  return { replayed };
}

/**
 * Unrouted: routed again with the live rules (replayUnrouted). Quarantined: stored again on its
 * subject when it now passes the router's checks, else left in quarantine (replayQuarantined).
 * `seqs` are sequences in JETBUS_UNROUTED / JETBUS_QUARANTINE.
 */
async function replaySetAside(
  ctx: ConsoleContext,
  kind: typeof HeldKind.Unrouted | typeof HeldKind.Quarantine,
  body: Record<string, unknown>,
) {
  const seqs = new Set((Array.isArray(body.seqs) ? body.seqs : []).map(Number));
  if (seqs.size === 0) throw new UsageError("replay needs seqs (sequences in the unrouted or quarantine stream)");
  const jsm = await ctx.jsm();
  const store = ctx.deps.config.store.stream;
  const chosen = (
    await listSetAside(ctx.nc, jsm, kind === HeldKind.Unrouted ? SetAsideKind.Unrouted : SetAsideKind.Quarantine, store)
  ).filter((x) => seqs.has(x.seq));
  if (kind === HeldKind.Unrouted) {
    const live = await ctx.live();
    return { kind, replayed: await replayUnrouted(ctx.nc, jsm, store, compileRuleSet(live.config, live.revision ?? 0), chosen) };
  }
  return { kind, replayed: await replayQuarantined(ctx.nc, jsm, store, chosen, { schemas: new EventSchemas() }) };
}
