import { listDeadLetters, replayDeadLetters } from "../actor/dead-letter.ts";
import { UsageError } from "../errors.ts";
import { Streams } from "../topology.ts";
import type { ConsoleContext } from "./context.ts";
import { readHeld } from "./held-messages.ts";

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
  if (kind === HeldKind.Unrouted) return { kind, items: await readHeld(ctx, Streams.Unrouted, "unrouted.>", LIST_LIMIT) };
  if (kind === HeldKind.Quarantine) return { kind, items: await readHeld(ctx, Streams.Quarantine, "quarantine.>", LIST_LIMIT) };
  throw new UsageError(`kind must be one of ${Object.values(HeldKind).join(", ")}, got ${JSON.stringify(kind)}`);
}

/**
 * POST /api/dead-letters/replay {ids: [dlq seq or event id, ...]} or {actor}: back to the actor's
 * inbox, removed from the DLQ once the inbox acked the copy (replayDeadLetters).
 */
export async function replayHeld(ctx: ConsoleContext, body: Record<string, unknown>) {
  const ids = Array.isArray(body.ids) ? body.ids.map(String) : [];
  const actor = typeof body.actor === "string" && body.actor ? body.actor : undefined;
  if (ids.length === 0 && !actor) throw new UsageError("replay needs ids (DLQ sequences or event ids) or an actor");
  const { config } = await ctx.live();
  const replayed = [];
  if (ids.length === 0) replayed.push(...(await replayDeadLetters(ctx.nc, config.actors, { actor })));
  for (const id of ids) replayed.push(...(await replayDeadLetters(ctx.nc, config.actors, { id, actor })));
  return { replayed };
}
