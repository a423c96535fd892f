import type { Command } from "commander";
import { AggregateStore, type EntityHistory, type PointInTime } from "../../aggregate/aggregate-store.ts";
import type { AggregateEvent } from "../../aggregate/define.ts";
import { configuredAggregate } from "../../aggregate/modules.ts";
import { parseTimePoint } from "../../config/duration.ts";
import { NotFoundError, UsageError } from "../../errors.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";

type ShowOptions = CommonOptions & { at?: string; seq?: string; entityVersion?: string };
type PointOptions = Readonly<{ at?: string; seq?: string; version?: string }>;

// not `--version`: the program's own --version would take it wherever it stands and print jetbus's version
const FLAGS = { at: "--at", seq: "--seq", version: "--entity-version" } as const;

/** `--at TIME | --seq N | --entity-version N`: at most one, each checked. */
export function pointOf(o: PointOptions, now = new Date()): PointInTime {
  const given = (["at", "seq", "version"] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1)
    throw new UsageError(`give one of --at, --seq and --entity-version, not ${given.map((k) => FLAGS[k]).join(" and ")}`);
  const whole = (key: "seq" | "version", v: string) => {
    if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v)))
      throw new UsageError(`${FLAGS[key]} must be a whole number, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  if (o.at !== undefined) return { at: parseTimePoint(o.at, "--at", now) };
  if (o.seq !== undefined) return { seq: whole("seq", o.seq) };
  if (o.version !== undefined) return { version: whole("version", o.version) };
  return {};
}

/** The JSON document `aggregate show --json` prints. */
export function showReport(aggregate: string, id: string, point: PointInTime, h: EntityHistory<unknown, AggregateEvent>) {
  return {
    aggregate,
    id,
    ...(point.at ? { at: point.at.toISOString() } : {}),
    ...(point.seq !== undefined ? { up_to_seq: point.seq } : {}),
    ...(point.version !== undefined ? { up_to_version: point.version } : {}),
    version: h.version,
    seq: h.seq,
    state: h.state,
    later_events: h.later,
    events: h.entries.map(({ event: e, storedAt, storedVersion }) => ({
      version: e.version,
      seq: e.seq,
      stored_at: storedAt.toISOString(),
      id: e.id,
      type: e.type,
      time: e.time,
      dataversion: e.dataversion,
      ...(storedVersion !== e.dataversion ? { stored_dataversion: storedVersion } : {}),
      correlationid: e.correlationid,
      ...(e.causationid ? { causationid: e.causationid } : {}),
      data: e.data,
    })),
  };
}

function text(r: ReturnType<typeof showReport>): string {
  const when = r.at
    ? `as of ${r.at}`
    : r.up_to_seq !== undefined
      ? `up to store sequence ${r.up_to_seq}`
      : r.up_to_version !== undefined
        ? `at version ${r.up_to_version}`
        : "now";
  const lines = [
    `${r.aggregate} ${r.id} ${when}: version ${r.version}${r.seq ? ` (store sequence ${r.seq})` : ""}`,
    `state: ${JSON.stringify(r.state)}`,
  ];
  if (r.events.length) lines.push("events:");
  for (const e of r.events)
    lines.push(
      `  ${e.version}  seq ${e.seq}  ${e.stored_at}  ${e.type} v${e.dataversion}${e.stored_dataversion !== undefined ? ` (stored v${e.stored_dataversion})` : ""}  ${JSON.stringify(e.data)}`,
    );
  if (r.later_events > 0) lines.push(`${r.later_events} later event${r.later_events === 1 ? "" : "s"} not folded in`);
  return lines.join("\n") + "\n";
}

export function registerAggregate(program: Command): void {
  const aggregate = program
    .command("aggregate")
    .description("event-sourced aggregates (the config's aggregates[]): an entity's state and history");
  withCommonOptions(aggregate.command("show").argument("<type>", "aggregate name (aggregates[].name)").argument("<id>", "entity id"))
    .option("--at <time>", "the state as of this time (ISO timestamp, or a duration ago: 2h, 7d), as the store recorded the events")
    .option("--seq <n>", "the state after the entity's events up to this store sequence")
    .option("--entity-version <n>", "the state after the entity's first N events")
    .description("an entity's state, now or as of a point in its history, and the events that made it (exit 1 when it has none)")
    .addHelpText(
      "after",
      "\nExamples:\n  jetbus aggregate show BankAccount acct-42\n  jetbus aggregate show BankAccount acct-42 --at 2026-11-01T12:00:00Z --json\n",
    )
    .action(async function (this: Command, type: string, id: string) {
      const o = allOptions<ShowOptions>(this);
      const point = pointOf({ at: o.at, seq: o.seq, version: o.entityVersion });
      await withRuntime(
        o,
        async (rt) => {
          const agg = await configuredAggregate(rt.config, type, rt.projectDir);
          const store = new AggregateStore(rt.nc, { stream: rt.config.store.stream });
          const h = await store.history(agg, id, point);
          if (h.version === 0 && h.later === 0)
            throw new NotFoundError(
              `${type} ${JSON.stringify(id)} has no events`,
              `\`jetbus history --type <event type>\` lists stored events; the entity's subjects are events.@.${type}.<id>.>`,
            );
          const report = showReport(type, id, point, h);
          process.stdout.write(o.json ? JSON.stringify(report) + "\n" : text(report));
        },
        "jetbus-aggregate",
      );
    });
}
