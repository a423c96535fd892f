import type { Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import { NotFoundError, UsageError } from "../../errors.ts";
import { buildTraceTree, renderTrace } from "../../operations/trace.ts";
import { gatherTraceFacts } from "../../operations/trace-facts.ts";
import { liveConfig } from "../../operations/live-config.ts";
import { storeCorrelationLookup } from "../../operations/store-lookup.ts";
import { routedActorsOf } from "../../operations/routing-plan.ts";
import { allOptions, withCommonOptions, withRuntime } from "../options.ts";

export function registerTrace(program: Command): void {
  withCommonOptions(
    program.command("trace").argument("<correlation-id>", "the correlation id of a flow (defaults to the id of its first event)"),
  )
    .description(
      "the causal tree of a correlation: its events linked by causation, which actors handled each (when, after how many attempts) and what went to the DLQ",
    )
    .action(async function (this: Command, correlationId: string) {
      const o = allOptions(this);
      if (!correlationId.trim()) throw new UsageError("the correlation id must not be empty");
      await withRuntime(
        o,
        async (rt) => {
          const jsm = await jetstreamManager(rt.nc);
          const quiet = rt.logger.child({ component: "trace" }, { level: "warn" });
          const live = await liveConfig(jsm, rt.config);
          const facts = await gatherTraceFacts(rt.nc, jsm, {
            correlationId,
            lookup: storeCorrelationLookup(rt.nc, jsm, rt.config.store, quiet),
            actors: live.config.actors.map((a) => a.name),
            routedTo: routedActorsOf(live.config, live.revision ?? 0),
            storeStream: rt.config.store.stream,
          });
          if (facts.events.length === 0)
            throw new NotFoundError(
              `no events with correlation id "${correlationId}" in ${rt.config.store.stream}`,
              "a flow's correlation id is its first event's id unless the publisher set one; `jetbus history --json` shows each event's correlationid",
            );
          const tree = buildTraceTree(facts);
          process.stdout.write(o.json ? JSON.stringify(tree) + "\n" : renderTrace(tree));
        },
        "jetbus-trace",
      );
    });
}
