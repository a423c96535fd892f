import type { Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import { NotFoundError, UsageError } from "../../errors.ts";
import { liveConfig } from "../../operations/live-config.ts";
import { replayQuarantined } from "../../operations/quarantine-replay.ts";
import { listSetAside, SET_ASIDE_STREAM, SetAsideKind, type SetAside, type SetAsideFilter } from "../../operations/set-aside.ts";
import { replayUnrouted } from "../../operations/unrouted-replay.ts";
import { compileRuleSet } from "../../routing/plan.ts";
import { EventSchemas } from "../../store/schemas.ts";
import { parseTimePoint } from "../../config/duration.ts";
import { Streams } from "../../topology.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";
import { createProgress } from "../progress.ts";
import { renderTable } from "../table.ts";
import type { Runtime } from "../../app/bootstrap.ts";

type SelectOptions = CommonOptions & { type?: string; since?: string; until?: string; limit?: string; all?: boolean; force?: boolean };

function filterOf(o: SelectOptions): SetAsideFilter {
  let limit: number | undefined;
  if (o.limit !== undefined) {
    if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1)
      throw new UsageError(`--limit must be a whole number >= 1, got ${JSON.stringify(o.limit)}`);
    limit = Number(o.limit);
  }
  return {
    type: o.type,
    since: o.since === undefined ? undefined : parseTimePoint(o.since, "--since"),
    until: o.until === undefined ? undefined : parseTimePoint(o.until, "--until"),
    limit,
  };
}

function withFilters(cmd: Command): Command {
  return cmd
    .option("-t, --type <type>", "only events of this type")
    .option("--since <time>", "set aside from this time: ISO timestamp or a duration ago (30s, 10m, 2h, 7d)")
    .option("--until <time>", "set aside up to this time")
    .option("-n, --limit <n>", "at most this many");
}

function jsonOf(s: SetAside): string {
  return JSON.stringify({ ...s, time: s.time.toISOString() });
}

function table(kind: SetAsideKind, rows: readonly SetAside[]): string {
  if (rows.length === 0) return `nothing in ${SET_ASIDE_STREAM[kind]}\n`;
  const last = kind === SetAsideKind.Quarantine ? "REASON" : "REVISION";
  const cells = [
    ["SEQ", "TIME", "TYPE", "EVENT ID", "STORE SEQ", last],
    ...rows.map((s) => [
      String(s.seq),
      s.time.toISOString(),
      s.type,
      s.eventId,
      String(s.originSeq ?? "-"),
      kind === SetAsideKind.Quarantine ? s.reason! : String(s.revision ?? "-"),
    ]),
  ];
  return renderTable(cells);
}

/** Sequences named on the command line, or everything the filters select; --all when there are neither. */
async function select(rt: Runtime, kind: SetAsideKind, seqs: readonly string[], o: SelectOptions): Promise<SetAside[]> {
  const f = filterOf(o);
  const wanted = seqs.map((s) => {
    if (!/^\d+$/.test(s))
      throw new UsageError(`"${s}" is not a ${SET_ASIDE_STREAM[kind]} sequence (the SEQ column of \`jetbus ${kind} list\`)`);
    return Number(s);
  });
  if (wanted.length === 0 && !o.all && !f.type && !f.since && !f.until)
    throw new UsageError(
      `name the sequences to replay (\`jetbus ${kind} list\` shows them), or select with --type/--since/--until, or pass --all`,
    );
  const all = await listSetAside(
    rt.nc,
    await jetstreamManager(rt.nc),
    kind,
    rt.config.store.stream,
    wanted.length ? { ...f, limit: undefined } : f,
  );
  const chosen = wanted.length ? all.filter((s) => wanted.includes(s.seq)) : all;
  const missing = wanted.filter((w) => !chosen.some((s) => s.seq === w));
  if (missing.length)
    throw new NotFoundError(
      `${SET_ASIDE_STREAM[kind]} holds no message with sequence ${missing.join(", ")}${f.type ? ` of type ${f.type}` : ""}`,
      `\`jetbus ${kind} list\` shows the sequences (SEQ)`,
    );
  return chosen;
}

function registerList(parent: Command, kind: SetAsideKind): void {
  withFilters(withCommonOptions(parent.command("list")))
    .description(`list ${SET_ASIDE_STREAM[kind]}, oldest first`)
    .action(async function (this: Command) {
      const o = allOptions<SelectOptions>(this);
      const f = filterOf(o);
      await withRuntime(o, async (rt) => {
        const rows = await listSetAside(rt.nc, await jetstreamManager(rt.nc), kind, rt.config.store.stream, f);
        process.stdout.write(o.json ? rows.map((r) => jsonOf(r) + "\n").join("") : table(kind, rows));
      });
    });
}

export function registerQuarantine(program: Command): void {
  const q = program
    .command("quarantine")
    .description(`messages the router would not route (undecodable, a schema violation, a bad header): ${Streams.Quarantine}`)
    .addHelpText(
      "after",
      "\nExamples:\n  jetbus quarantine list --type UserCreated --since 1h\n  jetbus quarantine show 12\n  jetbus quarantine replay 12 13        # after fixing schemas/events/<Type>.json\n  jetbus quarantine replay --all --force",
    );
  registerList(q, SetAsideKind.Quarantine);
  withCommonOptions(q.command("show").argument("<seq>", "sequence in JETBUS_QUARANTINE (the SEQ column of `list`)"))
    .description("one quarantined message: where it was stored, why it was set aside, its headers and body")
    .action(async function (this: Command, seq: string) {
      const o = allOptions<SelectOptions>(this);
      if (!/^\d+$/.test(seq)) throw new UsageError(`"${seq}" is not a ${Streams.Quarantine} sequence`);
      await withRuntime(o, async (rt) => {
        const jsm = await jetstreamManager(rt.nc);
        const [s] = (await listSetAside(rt.nc, jsm, SetAsideKind.Quarantine, rt.config.store.stream)).filter((x) => x.seq === Number(seq));
        if (!s)
          throw new NotFoundError(
            `${Streams.Quarantine} holds no message with sequence ${seq}`,
            "`jetbus quarantine list` shows the sequences (SEQ)",
          );
        const m = await jsm.streams.getMessage(Streams.Quarantine, { seq: s.seq });
        if (!m) throw new NotFoundError(`${Streams.Quarantine} #${seq} was removed meanwhile`);
        const headers = Object.fromEntries([...(m.header?.keys() ?? [])].map((k) => [k, m.header!.get(k)]));
        const body = new TextDecoder().decode(m.data);
        if (o.json) process.stdout.write(JSON.stringify({ ...JSON.parse(jsonOf(s)), headers, body }) + "\n");
        else
          process.stdout.write(
            [
              `${Streams.Quarantine} #${s.seq}  ${s.time.toISOString()}`,
              `stored:  ${s.subject}${s.originSeq ? ` #${s.originSeq}` : ""} (event id ${s.eventId})`,
              `reason:  ${s.reason}`,
              "headers:",
              ...Object.entries(headers).map(([k, v]) => `  ${k}: ${v}`),
              "body:",
              body,
              "",
            ].join("\n"),
          );
      });
    });
  withFilters(withCommonOptions(q.command("replay").argument("[seq...]", "sequences in JETBUS_QUARANTINE")))
    .description(
      "store quarantined messages again on their original subject so the router sees them anew; each is first checked as the router will: one that still fails stays in quarantine (unless --force, then the router quarantines it again)",
    )
    .option("--all", "every quarantined message the filters select")
    .option("--force", "republish even those that still fail (they come back to quarantine)")
    .action(async function (this: Command, seqs: string[]) {
      const o = allOptions<SelectOptions>(this);
      await withRuntime(o, async (rt) => {
        const chosen = await select(rt, SetAsideKind.Quarantine, seqs, o);
        const progress = createProgress("replaying quarantined messages");
        let done;
        try {
          done = await replayQuarantined(rt.nc, await jetstreamManager(rt.nc), rt.config.store.stream, chosen, {
            schemas: new EventSchemas(),
            force: o.force,
            onProgress: (n, t) => progress.update(n, t),
          });
        } finally {
          progress.done();
        }
        for (const d of done) {
          if (o.json) process.stdout.write(JSON.stringify(d) + "\n");
          else if (d.outcome === "still-invalid")
            process.stdout.write(
              `kept #${d.seq} (${d.eventId}) in quarantine: it still fails: ${d.stillFails} (fix the cause, or --force: it would come back to quarantine)\n`,
            );
          else
            process.stdout.write(
              `republished #${d.seq} (${d.eventId}) to ${d.subject} as store seq ${d.storeSeq}${d.stillFails ? `; it still fails (${d.stillFails}), so the router will quarantine it again` : ""}\n`,
            );
        }
        if (done.some((d) => d.outcome === "still-invalid")) process.exitCode = 1;
      });
    });
}

export function registerUnrouted(program: Command): void {
  const u = program
    .command("unrouted")
    .description(`events no routing rule selected: ${Streams.Unrouted}`)
    .addHelpText(
      "after",
      "\nExamples:\n  jetbus unrouted list --type OrderPlaced\n  jetbus config apply jetbus.config.json && jetbus unrouted replay --all",
    );
  registerList(u, SetAsideKind.Unrouted);
  withFilters(withCommonOptions(u.command("replay").argument("[seq...]", "sequences in JETBUS_UNROUTED")))
    .description(
      "route unrouted events with the rules running now (KV jetbus-config, else the config file): copies go to the actors' inboxes; events no rule matches stay",
    )
    .option("--all", "every unrouted event the filters select")
    .action(async function (this: Command, seqs: string[]) {
      const o = allOptions<SelectOptions>(this);
      await withRuntime(o, async (rt) => {
        const jsm = await jetstreamManager(rt.nc);
        const chosen = await select(rt, SetAsideKind.Unrouted, seqs, o);
        const live = await liveConfig(jsm, rt.config);
        const rules = compileRuleSet(live.config, live.revision ?? 0);
        const progress = createProgress("routing unrouted events");
        let done;
        try {
          done = await replayUnrouted(rt.nc, jsm, rt.config.store.stream, rules, chosen, { onProgress: (n, t) => progress.update(n, t) });
        } finally {
          progress.done();
        }
        for (const d of done) {
          if (o.json) process.stdout.write(JSON.stringify(d) + "\n");
          else if (d.outcome === "routed") process.stdout.write(`routed #${d.seq} (${d.type} ${d.eventId}) to ${d.actors.join(", ")}\n`);
          else if (d.outcome === "still-unrouted")
            process.stdout.write(`kept #${d.seq} (${d.type} ${d.eventId}): no rule of ${live.source} matches it\n`);
          else process.stdout.write(`kept #${d.seq} (${d.eventId}): ${d.reason}\n`);
        }
      });
    });
}
