import type { Command } from "commander";
import { NotFoundError } from "../../errors.ts";
import { eventJsonLine, indexPending, openStore } from "../../store/cli-support.ts";
import { allOptions, withCommonOptions, withRuntime } from "../options.ts";

export function registerGet(program: Command): void {
  withCommonOptions(program.command("get").argument("<id>", "event id"))
    .description("print one event by id (exit 1 when the store does not hold it)")
    .action(async function (this: Command, id: string) {
      const o = allOptions(this);
      await withRuntime(o, async (rt) => {
        const { store, indexer } = await openStore(rt);
        let found = await store.findById(id);
        if (!found) {
          await indexPending(indexer);
          found = await store.findById(id);
        }
        if (!found) throw new NotFoundError(`event ${id} not found`);
        if (o.json) process.stdout.write(eventJsonLine(found));
        else process.stdout.write(JSON.stringify({ ...found.event, seq: found.seq, stored: found.time.toISOString() }, null, 2) + "\n");
      });
    });
}
