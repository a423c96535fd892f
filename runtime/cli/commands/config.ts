import type { Command } from "commander";
import { loadConfig, readConfigDocument } from "../../config/load.ts";
import { validateConfig } from "../../config/validate.ts";
import type { ActorSettings, JetbusConfig } from "../../config/types.ts";
import { checkRegisteredHandlers } from "../../actor/handler-check.ts";
import { registerBuiltinHandlers } from "../../app/builtin-handlers.ts";
import { dirname, resolve } from "node:path";
import { checkActorModules } from "../../actor/module-loader.ts";
import { checkProjectionModules } from "../../projection/module.ts";
import { checkAggregateModules } from "../../aggregate/modules.ts";
import { eventVersionProblems } from "../../events/versions/module.ts";
import { defaultEventSchemaDir } from "../../store/schemas.ts";
import { resolveStateOrdering, stateOrderingProblems } from "../../actor/state/ordering-default.ts";
import { ConfigError, UsageError } from "../../errors.ts";
import { ConfigStore, type StoredConfig } from "../../routing/config-store.ts";
import { Buckets } from "../../topology.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";

function summary(c: StoredConfig): string {
  return `revision ${c.revision} at ${c.at.toISOString()}: ${c.config.actors.length} actors, ${c.config.routes.rules.length} rules (${c.config.routes.mode})`;
}

function out(o: CommonOptions, json: unknown, text: string): void {
  process.stdout.write((o.json ? JSON.stringify(json) : text) + "\n");
}

async function withStore<T>(o: CommonOptions, fn: (store: ConfigStore) => Promise<T>): Promise<T> {
  return withRuntime(o, async (rt) => fn(await ConfigStore.open(rt.nc, { replicas: rt.config.store.replicas })));
}

export function registerConfig(program: Command): void {
  const config = program.command("config").description("validate, apply and inspect the jetbus config");
  withCommonOptions(config.command("validate").argument("[file]", "config file", "jetbus.config.json"))
    .description("check a config file against the schema and the semantic rules; exit 2 listing every problem")
    .action(async function (this: Command, file: string) {
      const doc = readConfigDocument(file);
      const { config: valid, problems } = validateConfig(doc);
      // every actor's handler must resolve, as `up` resolves it: a registered name or a module that loads.
      // Checked on the document even when the schema found problems, so one run lists them all.
      await registerBuiltinHandlers();
      const actors = (doc as { actors?: unknown })?.actors;
      const wellFormed = Array.isArray(actors) && actors.every((a) => typeof a === "object" && a !== null && !Array.isArray(a));
      if (wellFormed) {
        problems.push(...checkRegisteredHandlers(actors as ActorSettings[]));
        // and a stateful module's settings: ordered on its state key (the default), never on another
        problems.push(
          ...(await checkActorModules({ actors } as JetbusConfig, dirname(resolve(file)), stateOrderingProblems).catch(() => [])),
        );
      }
      const projections = (doc as { projections?: unknown })?.projections;
      if (Array.isArray(projections) && projections.every((p) => typeof p === "object" && p !== null && typeof p.module === "string"))
        problems.push(...(await checkProjectionModules({ projections } as JetbusConfig, dirname(resolve(file))).catch(() => [])));
      // aggregate modules load and define the configured names; upcasters load and fit schemas/events/<Type>@<N>.json
      const aggregates = (doc as { aggregates?: unknown })?.aggregates;
      if (Array.isArray(aggregates)) problems.push(...(await checkAggregateModules({ aggregates }, dirname(resolve(file)))));
      problems.push(...(await eventVersionProblems(doc, dirname(resolve(file)), defaultEventSchemaDir())));
      if (problems.length || !valid) throw new ConfigError(file, problems);
      // what `up` runs: a stateful actor without "ordered" is shown ordered on its state key
      const c = await resolveStateOrdering(valid, dirname(resolve(file)), { mode: "lenient", source: file });
      const o = allOptions(this);
      if (o.json) process.stdout.write(JSON.stringify({ valid: true, file, config: c }) + "\n");
      else
        process.stdout.write(
          `${file}: valid (${c.actors.length} actors, ${c.routes.rules.length} rules${c.projections.length ? `, ${c.projections.length} projections` : ""})\n`,
        );
    });

  withCommonOptions(config.command("apply").argument("<file>", "config file to apply"))
    .description(
      `validate FILE (schema + semantic checks) and store it in KV ${Buckets.Config} as a new revision; running routers switch to it`,
    )
    .action(async function (this: Command, file: string) {
      const o = allOptions(this);
      // validated before connecting: an invalid file never reaches the bucket. The routers get a
      // stateful actor without "ordered" ordered on its state key (its module says which)
      const checked = await resolveStateOrdering(loadConfig(file), dirname(resolve(file)), {
        mode: "lenient",
        source: file,
        onSkipped: (actor, reason) => process.stderr.write(`warning: actor "${actor}" applied as written: ${reason}\n`),
      });
      const stored = await withStore(o, (s) => s.apply(checked, file));
      out(o, { applied: file, revision: stored.revision }, `applied ${file}: ${summary(stored)}`);
    });

  withCommonOptions(config.command("show"))
    .option("--revision <n>", "a past revision instead of the current one")
    .description(`print the config stored in KV ${Buckets.Config}`)
    .action(async function (this: Command) {
      const o = allOptions<CommonOptions & { revision?: string }>(this);
      const stored = await withStore(o, async (s) => {
        if (o.revision === undefined) return s.current();
        const rev = Number(o.revision);
        if (!Number.isInteger(rev) || rev < 1)
          throw new UsageError(`--revision must be a whole number >= 1, got ${JSON.stringify(o.revision)}`);
        return (await s.history()).find((h) => h.revision === rev) ?? null;
      });
      if (!stored) {
        out(
          o,
          { revision: null },
          `no config stored in KV ${Buckets.Config} yet (run \`jetbus config apply FILE\`, or start a router: it seeds its file config)`,
        );
        return;
      }
      out(
        o,
        { revision: stored.revision, at: stored.at.toISOString(), config: stored.config },
        `# ${summary(stored)}\n${JSON.stringify(stored.config, null, 2)}`,
      );
    });

  withCommonOptions(config.command("history"))
    .description("list the stored config revisions, oldest first")
    .action(async function (this: Command) {
      const o = allOptions(this);
      const all = await withStore(o, (s) => s.history());
      const latest = all.at(-1)?.revision;
      out(
        o,
        all.map((h) => ({
          revision: h.revision,
          at: h.at.toISOString(),
          actors: h.config.actors.length,
          rules: h.config.routes.rules.length,
          mode: h.config.routes.mode,
          current: h.revision === latest,
        })),
        all.length === 0 ? "no config revisions stored" : all.map((h) => `${h.revision === latest ? "*" : " "} ${summary(h)}`).join("\n"),
      );
    });

  withCommonOptions(config.command("rollback").argument("<revision>", "revision to restore"))
    .description("store an earlier revision's config again as a new revision (history is kept)")
    .action(async function (this: Command, revision: string) {
      const o = allOptions(this);
      const rev = Number(revision);
      if (!Number.isInteger(rev) || rev < 1) throw new UsageError(`revision must be a whole number >= 1, got ${JSON.stringify(revision)}`);
      const stored = await withStore(o, (s) => s.rollback(rev));
      out(o, { rolledBackTo: rev, revision: stored.revision }, `restored revision ${rev} as ${summary(stored)}`);
    });
}
