import type { Command } from "commander";
import { openStore } from "../store-support.ts";
import { rebuildIndex } from "../../store/rebuild.ts";
import type { IndexStatus } from "../../store/types.ts";
import { allOptions, withCommonOptions, withRuntime } from "../options.ts";
import { createProgress } from "../progress.ts";

function statusLine(s: IndexStatus): string {
  return `indexed through seq ${s.indexedThrough} of ${s.lastSeq}; lag ${s.pending + s.ackPending} (${s.pending} pending, ${s.ackPending} in progress); ${s.indexEntries} index entries\n`;
}

export function registerIndex(program: Command): void {
  const index = program.command("index").description("the event store's id and correlation indexes");
  withCommonOptions(index.command("status"))
    .description("show how far the indexes are behind the event store (the routers index each event as they route it)")
    .action(async function (this: Command) {
      const o = allOptions(this);
      await withRuntime(o, async (rt) => {
        const indexer = await (await openStore(rt)).indexer();
        const s = await indexer.status();
        process.stdout.write(o.json ? JSON.stringify({ ...s, lag: s.pending + s.ackPending }) + "\n" : statusLine(s));
      });
    });
  withCommonOptions(index.command("rebuild"))
    .description("drop and re-create the indexes from the event stream (events are not touched)")
    .action(async function (this: Command) {
      const o = allOptions(this);
      await withRuntime(o, async (rt) => {
        const { quietLogger } = await openStore(rt);
        const progress = createProgress("indexing events");
        let s: IndexStatus;
        try {
          s = await rebuildIndex(rt.nc, rt.config.store, {
            logger: quietLogger,
            metrics: rt.metrics,
            onProgress: (p) => progress.update(p.done, p.total),
          });
        } finally {
          progress.done();
        }
        process.stdout.write(o.json ? JSON.stringify(s) + "\n" : `index rebuilt: ${statusLine(s)}`);
      });
    });
}
