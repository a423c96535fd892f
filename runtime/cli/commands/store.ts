import type { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { applyPlan, checkPlan } from "../../cluster/store-apply.ts";
import { pendingStreams, planStore, renderPlan } from "../../cluster/store-plan.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";

type ApplyOptions = CommonOptions & { yes?: boolean; allowDataLoss?: boolean };

async function confirmed(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerStore(program: Command): void {
  const store = program.command("store").description("the event store and the other streams jetbus owns");
  withCommonOptions(store.command("apply"))
    .description(
      "show how the server's streams differ from the config, then create or change them (the only command that changes an existing store)",
    )
    .option("-y, --yes", "apply without asking (needed when there is no terminal to ask on)")
    .option(
      "--allow-data-loss",
      "accept changes that delete stored data: shorter max_age, smaller max_bytes/max_msgs, fewer replicas, another storage type",
    )
    .action(async function (this: Command) {
      const o = allOptions<ApplyOptions>(this);
      await withRuntime(
        o,
        async (rt) => {
          const jsm = await jetstreamManager(rt.nc, { checkAPI: false });
          const plan = await planStore(jsm, rt.config);
          const opts = { allowDataLoss: o.allowDataLoss, clustered: Boolean(rt.nc.info?.cluster) };
          const say = (line: string) => (o.json ? undefined : process.stdout.write(line));
          say(renderPlan(plan));
          if (pendingStreams(plan).length === 0) {
            if (o.json) process.stdout.write(JSON.stringify({ plan, applied: [] }) + "\n");
            return;
          }
          // refusals come before the question: a change that cannot or may not be made is never offered
          checkPlan(plan, opts);
          if (!o.yes) {
            const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
            if (!interactive || !(await confirmed("apply these changes? [y/N] "))) {
              process.stderr.write(
                interactive ? "not applied\n" : "not applied: no terminal to confirm on; run again with --yes to apply\n",
              );
              if (o.json) process.stdout.write(JSON.stringify({ plan, applied: [] }) + "\n");
              return;
            }
          }
          const applied = await applyPlan(jsm, plan, opts);
          if (o.json) process.stdout.write(JSON.stringify({ plan, applied }) + "\n");
          else say(`applied: ${applied.join(", ")}\n`);
        },
        "jetbus-store-apply",
        false,
      );
    });
}
