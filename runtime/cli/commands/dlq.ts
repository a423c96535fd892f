import type { Command } from "commander";
import { listDeadLetters, replayDeadLetters } from "../../actor/dead-letter.ts";
import type { DeadLetter } from "../../actor/types.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";
import { createProgress } from "../progress.ts";
import { renderTable } from "../table.ts";

type DlqOptions = CommonOptions & { actor?: string; limit?: string };

function deadLetterTable(rows: readonly DeadLetter[]): string {
  if (rows.length === 0) return "no dead letters\n";
  const table = [
    ["SEQ", "ACTOR", "EVENT ID", "TYPE", "ATTEMPTS", "CODE", "ERROR", "TIME"],
    ...rows.map((d) => [
      String(d.dlqSeq),
      d.actor,
      d.eventId,
      d.type,
      String(d.attempts),
      d.errorCode,
      d.error.length > 60 ? d.error.slice(0, 57) + "..." : d.error,
      d.time.toISOString(),
    ]),
  ];
  return renderTable(table);
}

export function registerDlq(program: Command): void {
  const dlq = program.command("dlq").description("dead letters: events an actor gave up on (JETBUS_DLQ)");
  withCommonOptions(dlq.command("list"))
    .description("list dead letters, oldest first")
    .option("-a, --actor <name>", "only this actor's")
    .option("-n, --limit <n>", "at most this many")
    .action(async function (this: Command) {
      const o = allOptions<DlqOptions>(this);
      await withRuntime(o, async (rt) => {
        const rows = await listDeadLetters(rt.nc, { actor: o.actor, limit: o.limit ? Number(o.limit) : undefined });
        if (o.json) for (const d of rows) process.stdout.write(JSON.stringify({ ...d, time: d.time.toISOString() }) + "\n");
        else process.stdout.write(deadLetterTable(rows));
      });
    });
  withCommonOptions(dlq.command("replay").argument("[id]", "event id (or DLQ sequence) of the dead letter to replay"))
    .description("send dead letters back to their actor's inbox (the event keeps its id) and remove them from the DLQ")
    .option("-a, --actor <name>", "replay every dead letter of this actor (or narrow ID to it)")
    .action(async function (this: Command, id: string | undefined) {
      const o = allOptions<DlqOptions>(this);
      await withRuntime(o, async (rt) => {
        const progress = createProgress("replaying dead letters");
        let done;
        try {
          done = await replayDeadLetters(
            rt.nc,
            rt.config.actors,
            { id, actor: o.actor },
            { onProgress: (n, total) => progress.update(n, total) },
          );
        } finally {
          progress.done();
        }
        if (o.json) for (const d of done) process.stdout.write(JSON.stringify(d) + "\n");
        else for (const d of done) process.stdout.write(`replayed ${d.eventId} to ${d.subject} (dlq seq ${d.dlqSeq} removed)\n`);
      });
    });
}
