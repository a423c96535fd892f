import type { Command } from "commander";
import { stateHistoryReport, stateListReport, type StateListReport } from "../../actor/state/report.ts";
import { StateStore } from "../../actor/state/store.ts";
import { NotFoundError } from "../../errors.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";
import { renderTable } from "../table.ts";

type StateOptions = CommonOptions;

const show = (v: unknown) => JSON.stringify(v);

/** Where to look when a key holds nothing: the keys that do. */
const listHint = (actor: string) => `\`jetbus state list ${actor}\` shows the keys that hold a state`;

const ACTOR = "name of a stateful actor (its state is in KV jetbus-state-<actor>)";
const KEY = "state key: the value the actor's state.key reads from an event, e.g. order-42 for data.order_id";

/** A state wider than this is cut in the table (`--json` and `state get` print it whole). */
const STATE_COLUMN = 80;

/** `state list` for a person: one row per key with its revision, when it changed, the event that changed it, and the state. */
function stateTable(report: StateListReport): string {
  if (report.keys.length === 0) return `actor "${report.actor}" holds no state\n`;
  const cut = (text: string) => (text.length > STATE_COLUMN ? text.slice(0, STATE_COLUMN - 3) + "..." : text);
  return renderTable([
    ["KEY", "REVISION", "CHANGED", "EVENT", "STATE"],
    ...report.keys.map((r) => [r.key, String(r.revision), r.changed, r.event ?? "-", cut(show(r.state))]),
  ]);
}

export function registerState(program: Command): void {
  const state = program.command("state").description("per-key state of stateful actors (KV jetbus-state-<actor>)");
  withCommonOptions(state.command("get").argument("<actor>", ACTOR).argument("<key>", KEY))
    .description("one key's current state and revision (exit 1 when the key has none)")
    .addHelpText("after", "\nExample:\n  jetbus state get order-saga order-42\n")
    .action(async function (this: Command, actor: string, key: string) {
      const o = allOptions<StateOptions>(this);
      await withRuntime(
        o,
        async (rt) => {
          const read = await (await StateStore.bind(rt.nc, actor)).read(key);
          if (!read.exists) throw new NotFoundError(`actor "${actor}" holds no state for key ${show(key)}`, listHint(actor));
          process.stdout.write(
            o.json
              ? show({ actor, key, revision: read.revision, state: read.value }) + "\n"
              : `${show(read.value)}\n(revision ${read.revision})\n`,
          );
        },
        "jetbus-state",
      );
    });
  withCommonOptions(state.command("list").argument("<actor>", ACTOR))
    .description(
      "the keys that hold a state, each with its revision, time, the event that last changed it and the state (cut at 80 characters; --json: whole)",
    )
    .addHelpText("after", "\nExample:\n  jetbus state list order-saga --json\n")
    .action(async function (this: Command, actor: string) {
      const o = allOptions<StateOptions>(this);
      await withRuntime(
        o,
        async (rt) => {
          const report = stateListReport(actor, await (await StateStore.bind(rt.nc, actor)).list());
          if (o.json) for (const row of report.keys) process.stdout.write(show({ actor, ...row }) + "\n");
          else process.stdout.write(stateTable(report));
        },
        "jetbus-state",
      );
    });
  withCommonOptions(state.command("history").argument("<actor>", ACTOR).argument("<key>", KEY))
    .description("the stored revisions of one key (the newest 64), each with the event that wrote it")
    .addHelpText("after", "\nExample:\n  jetbus state history order-saga order-42\n")
    .action(async function (this: Command, actor: string, key: string) {
      const o = allOptions<StateOptions>(this);
      await withRuntime(
        o,
        async (rt) => {
          const revisions = await (await StateStore.bind(rt.nc, actor)).history(key);
          if (revisions.length === 0) throw new NotFoundError(`actor "${actor}" has no revisions for key ${show(key)}`, listHint(actor));
          for (const row of stateHistoryReport(actor, key, revisions).revisions)
            process.stdout.write(
              o.json
                ? show(row) + "\n"
                : `${row.revision}  ${row.time}  ${row.event ?? "-"}  ${row.deleted ? "(deleted)" : show(row.state)}\n`,
            );
        },
        "jetbus-state",
      );
    });
}
