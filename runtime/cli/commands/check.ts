import type { Command } from "commander";
import type { NatsConnection } from "@nats-io/transport-node";
import { check, formatCheck, type StoredRecord } from "../../cluster/checker.ts";
import { countSent, mergeSeen, readAcked, readFaults, readSeen, readStored } from "../../cluster/checker-input.ts";
import { verdict } from "../../cluster/verdict.ts";
import { storedRecords } from "../../cluster/store-records.ts";
import { counterStateVerdict } from "../../cluster/state-verdict.ts";
import { StateStore } from "../../actor/state/store.ts";
import { UsageError } from "../../errors.ts";
import { ExitCode } from "../exit.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";

type CheckOptions = CommonOptions & {
  acked?: string;
  seen?: string[];
  store?: string;
  readStore?: boolean;
  allowDuplicates?: string;
  unordered?: string;
  examples: string;
  sent?: string;
  faults?: string;
  seed?: string;
  counterState?: string;
};

const names = (s?: string) =>
  s
    ? s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

export function registerCheck(program: Command): void {
  withCommonOptions(program.command("check"))
    .description(
      "consistency check of a run: lost, duplicated, out-of-order events per actor (and in the store), from JSON-lines records; exit 1 on any anomaly",
    )
    .option("--acked <file>", 'acked publishes in ack order: {"id","key"?,"to"?:[actors]} per line')
    .option("--seen <files...>", 'handlings in order: {"actor","id"} per line (one or more files)')
    .option("--store <file>", 'store contents: {"id","seq"?} per line')
    .option("--read-store", "read the store stream from NATS instead of --store")
    .option("--allow-duplicates <actors>", "comma-separated actors that are not idempotent (duplicates reported, not failed)")
    .option("--unordered <actors>", "comma-separated actors with no order promise (reordering reported, not failed)")
    .option("--examples <n>", "example ids printed per anomaly", "5")
    .option("--sent <file>", 'every publish tried: {"id"} per line (the verdict\'s "events")')
    .option(
      "--faults <file>",
      'faults injected: {"kind","target"?,"start","end"?,"pid"?} per line (ms); duplicates are placed in the idempotency windows of docs/concepts/actors.md',
    )
    .option("--seed <n>", "the fault schedule's seed, repeated in the verdict")
    .option(
      "--counter-state <actor>",
      'a stateful counter actor (state {"n"} per key, every acked event routed to it): each key\'s n must equal its acked events (the verdict\'s "state")',
    )
    .addHelpText("after", "\nExample:\n  jetbus check --acked acked.jsonl --seen seen-*.jsonl --read-store --unordered email-handler\n")
    .action(async function (this: Command) {
      const o = allOptions<CheckOptions>(this);
      if (!o.acked) throw new UsageError("--acked FILE is required (what the publishers got acked)");
      if (o.store && o.readStore) throw new UsageError("give --store FILE or --read-store, not both");
      const acked = readAcked(o.acked);
      const seen = mergeSeen((o.seen ?? []).map(readSeen));
      let stored: StoredRecord[] | undefined = o.store ? readStored(o.store) : undefined;
      if (o.readStore) stored = await withRuntime(o, (rt) => storedRecords(rt.nc, rt.config.store.stream), "jetbus-check");
      const state = o.counterState
        ? counterStateVerdict(o.counterState, acked, await withRuntime(o, (rt) => readStates(rt.nc, o.counterState!), "jetbus-check"))
        : undefined;
      const unordered = names(o.unordered);
      const result = check({
        acked,
        seen,
        stored,
        duplicatesAllowed: names(o.allowDuplicates),
        unordered,
        examples: Number(o.examples) || 5,
      });
      const seed = o.seed === undefined ? undefined : Number(o.seed);
      if (seed !== undefined && !Number.isSafeInteger(seed)) throw new UsageError(`--seed must be a whole number, got ${o.seed}`);
      const v = verdict({
        result,
        acked,
        seen,
        faults: o.faults ? readFaults(o.faults) : [],
        sent: o.sent ? countSent(o.sent) : undefined,
        seed,
        unordered,
        state,
      });
      // one JSON line: the verdict's counts first, the per-target detail after them
      process.stdout.write(
        o.json
          ? JSON.stringify({ ...v, valid: v.valid && result.valid, targets: result.targets }) + "\n"
          : formatCheck(result) + JSON.stringify(v) + "\n",
      );
      process.exitCode = result.valid && v.valid ? ExitCode.Ok : ExitCode.Failed;
    });
}

/** Every key's current state in the actor's state bucket (a NotFoundError when it has none). */
async function readStates(nc: NatsConnection, actor: string): Promise<Map<string, unknown>> {
  const store = await StateStore.bind(nc, actor);
  const states = new Map<string, unknown>();
  for (const key of await store.keys()) states.set(key, (await store.read(key)).value);
  return states;
}
