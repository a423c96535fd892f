import { UsageError } from "../errors.ts";
import { buildTraceTree } from "../operations/trace.ts";
import { gatherTraceFacts } from "../operations/trace-facts.ts";
import { routedActorsOf } from "../operations/routing-plan.ts";
import { storeCorrelationLookup } from "../operations/store-lookup.ts";
import type { ConsoleContext } from "./context.ts";

/** GET /api/trace?correlation=ID: the causal tree, as `jetbus trace --json` prints it. */
export async function traceOf(ctx: ConsoleContext, q: URLSearchParams) {
  const correlationId = q.get("correlation")?.trim();
  if (!correlationId) throw new UsageError("correlation is required");
  const jsm = await ctx.jsm();
  const live = await ctx.live();
  const quiet = ctx.deps.logger.child({ component: "console-trace" }, { level: "warn" });
  const facts = await gatherTraceFacts(ctx.nc, jsm, {
    correlationId,
    lookup: storeCorrelationLookup(ctx.nc, jsm, ctx.deps.config.store, quiet),
    actors: live.config.actors.map((a) => a.name),
    routedTo: routedActorsOf(live.config, live.revision ?? 0),
  });
  return buildTraceTree(facts);
}
