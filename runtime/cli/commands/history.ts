import type { Command } from "commander";
import { parseTimePoint } from "../../config/duration.ts";
import { StoreMissingError, UsageError } from "../../errors.ts";
import { isNotFound } from "../../nats/errors.ts";
import { eventJsonLine, eventTextLine, indexPending, openStore } from "../store-support.ts";
import { EventStore } from "../../store/queries.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";

type HistoryOptions = CommonOptions & {
  type?: string;
  correlationId?: string;
  since?: string;
  until?: string;
  limit?: string;
  from?: string;
};

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} must be a whole number >= 1, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function registerHistory(program: Command): void {
  withCommonOptions(program.command("history"))
    .description("list stored events in stream order, filtered by type, correlation id and time")
    .option("--type <type>", "only events of this type")
    .option("--correlation-id <id>", "only events of this correlation")
    .option("--since <time>", "from this time: ISO timestamp or a duration ago (30s, 10m, 2h, 7d, 1w)")
    .option("--until <time>", "up to this time: ISO timestamp or a duration ago")
    .option("--from <seq>", "from this store sequence")
    .option("--limit <n>", "at most this many events")
    .action(async function (this: Command) {
      const o = allOptions<HistoryOptions>(this);
      const filter = {
        type: o.type,
        correlationId: o.correlationId,
        since: o.since === undefined ? undefined : parseTimePoint(o.since, "--since"),
        until: o.until === undefined ? undefined : parseTimePoint(o.until, "--until"),
        limit: positiveInt(o.limit, "--limit"),
        fromSeq: positiveInt(o.from, "--from"),
      };
      if (filter.correlationId !== undefined)
        return withRuntime(o, async (rt) => {
          const { store, indexer } = await openStore(rt);
          await indexPending(await indexer());
          for await (const e of store.history(filter)) process.stdout.write(o.json ? eventJsonLine(e) : eventTextLine(e));
        });
      // by type and time: the store as it is, read in batched direct gets (one request up to 256 events)
      await withRuntime(
        o,
        async (rt) => {
          const quiet = rt.logger.child({ component: "store" }, { level: "warn" });
          const store = new EventStore(rt.nc, { stream: rt.config.store.stream, logger: quiet, metrics: rt.metrics });
          try {
            for await (const e of store.history(filter)) process.stdout.write(o.json ? eventJsonLine(e) : eventTextLine(e));
          } catch (err) {
            if (isNotFound(err)) throw new StoreMissingError(rt.config.store.stream);
            throw err;
          }
        },
        "jetbus-cli",
        true,
      );
    });
}
