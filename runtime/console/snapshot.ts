import type { ActorSettings } from "../config/types.ts";
import { formatDuration } from "../config/duration.ts";
import { buildStatusReport, presenceEntries } from "../operations/status.ts";
import type { PresenceFact, StatusReport } from "../operations/types.ts";
import { DEFAULT_STALE_AFTER_MS } from "../operations/status.ts";
import { TallyKeys } from "../presence/tally.ts";
import { buildFlowGraph, type FlowGraph } from "./flows.ts";
import type { LiveFacts } from "./live-facts.ts";
import type { CounterSample, RateTracker } from "./rates.ts";
import type { ProjectionStatus } from "../projection/status.ts";

export type ReplicaView = Readonly<{ id: string; host?: string; pid?: number; startedAt?: string; inFlight?: number; ageMs: number }>;

export type ActorView = Readonly<{
  name: string;
  replicas: Readonly<{ live: number; desired: number; list: readonly ReplicaView[] }>;
  lag: number | null;
  inFlight: number | null;
  redeliveries: number | null;
  dlq: number | null;
  rate: Readonly<{ handled: number; failed: number }>;
  /** Counted since the console started watching. */
  total: Readonly<{ handled: number; failed: number }>;
  settings: SettingsView;
}>;

/** An actor's settings as its config file would write them: durations in the config's units (30s, 24h), not milliseconds. */
export type SettingsView = Readonly<
  Pick<ActorSettings, "concurrency" | "replicas" | "max_ack_pending" | "dead_letter" | "ordered"> & {
    ack_wait: string;
    /** null: no limit (`timeout: 0`). */
    timeout: string | null;
    retry: Readonly<{ max_attempts: number; backoff: readonly string[] }>;
    idempotency: Readonly<{ enabled: boolean; ttl: string }>;
  }
>;

/** Durations through the config's one formatter (config/duration.ts), so the page shows what a config file says. */
function settingsView(a: ActorSettings): SettingsView {
  return {
    concurrency: a.concurrency,
    replicas: a.replicas,
    max_ack_pending: a.max_ack_pending,
    ack_wait: formatDuration(a.ack_wait),
    timeout: a.timeout === 0 ? null : formatDuration(a.timeout),
    retry: { max_attempts: a.retry.max_attempts, backoff: a.retry.backoff.map(formatDuration) },
    dead_letter: a.dead_letter,
    idempotency: { enabled: a.idempotency.enabled, ttl: formatDuration(a.idempotency.ttl) },
    ...(a.ordered ? { ordered: a.ordered } : {}),
  };
}

/** What the page receives on every tick of the live feed. */
export type LiveSnapshot = Readonly<{
  at: string;
  revision: number | null;
  configSource: string;
  actors: readonly ActorView[];
  /** Rates are per second averaged over this many ms (the time between the last two readings); null before the second reading. */
  rateWindowMs: number | null;
  /** When the console's first reading was taken: totals (handled, copies per edge) count from here. */
  countingSince: string | null;
  /** Per actor: handled and failed per second, one point per tick, oldest first. */
  history: Readonly<Record<string, Readonly<{ handled: readonly number[]; failed: readonly number[] }>>>;
  flows: FlowGraph;
  router: StatusReport["router"];
  indexer: StatusReport["indexer"];
  store: StatusReport["store"];
  unrouted: number | null;
  quarantined: number | null;
  /** Each projection with its version, position, lag (as its most advanced live runner reported it) and runners. */
  projections: readonly ProjectionStatus[];
}>;

const live = (p: PresenceFact, at: number) => at - p.at.getTime() <= DEFAULT_STALE_AFTER_MS;
const countsOf = (p: PresenceFact) =>
  typeof p.value.counts === "object" && p.value.counts !== null ? (p.value.counts as Record<string, unknown>) : {};

/** Every cumulative counter of one reading, named `type|T`, `unrouted|T`, `quarantined`, `<presence key>|<tally key>`. */
export function countersOf(f: LiveFacts): CounterSample {
  const values = new Map<string, number>();
  for (const [t, v] of Object.entries(f.typeCounts ?? {})) values.set(`type|${t}`, v);
  for (const [t, v] of Object.entries(f.unroutedCounts ?? {})) values.set(`unrouted|${t}`, v);
  if (f.quarantined !== null) values.set("quarantined", f.quarantined);
  const at = f.at.getTime();
  for (const p of presenceEntries(f.status)) {
    if (!live(p, at)) continue;
    for (const [k, v] of Object.entries(countsOf(p))) if (typeof v === "number") values.set(`${p.key}|${k}`, v);
  }
  return { at, values };
}

const actorKey = (actor: string, tally: string) => (k: string) => k.startsWith(`actor.${actor}.`) && k.endsWith(`|${tally}`);
const copyKey = (rule: string, actor: string) => (k: string) => k.startsWith("router.") && k.endsWith(`|${TallyKeys.copy(rule, actor)}`);

function replicasOf(f: LiveFacts, actor: string): ReplicaView[] {
  const at = f.at.getTime();
  return presenceEntries(f.status)
    .filter((p) => live(p, at) && p.value.role === "actor" && p.value.name === actor)
    .map((p) => {
      const v = p.value;
      return {
        id: typeof v.replica === "string" ? v.replica : p.key,
        ...(typeof v.host === "string" ? { host: v.host } : {}),
        ...(typeof v.pid === "number" ? { pid: v.pid } : {}),
        ...(typeof v.startedAt === "string" ? { startedAt: v.startedAt } : {}),
        ...(typeof v.inFlight === "number" ? { inFlight: v.inFlight } : {}),
        ageMs: Math.max(0, at - p.at.getTime()),
      };
    });
}

/** Pure given the tracker's state: the page's view of one reading. `history` is kept by the caller. */
export function buildSnapshot(f: LiveFacts, rates: RateTracker, history: LiveSnapshot["history"]): LiveSnapshot {
  const report = buildStatusReport(f.status);
  const actors = f.config.actors.map((a): ActorView => {
    const s = report.actors.find((x) => x.name === a.name);
    const list = replicasOf(f, a.name);
    return {
      name: a.name,
      replicas: { live: list.length, desired: a.replicas, list },
      lag: s?.lag ?? null,
      inFlight: s?.inFlight ?? null,
      redeliveries: s?.redeliveries ?? null,
      dlq: s?.dlq ?? null,
      rate: { handled: rates.rate(actorKey(a.name, TallyKeys.handled)), failed: rates.rate(actorKey(a.name, TallyKeys.failed)) },
      total: { handled: rates.total(actorKey(a.name, TallyKeys.handled)), failed: rates.total(actorKey(a.name, TallyKeys.failed)) },
      settings: settingsView(a),
    };
  });
  const flows = buildFlowGraph(f.config, {
    typeCounts: f.typeCounts ?? {},
    typeRate: (t) => rates.rate((k) => k === `type|${t}`),
    copyRate: (r, a) => rates.rate(copyKey(r, a)),
    copyTotal: (r, a) => rates.total(copyKey(r, a)),
    unroutedCounts: f.unroutedCounts ?? {},
    unroutedRate: (t) => rates.rate((k) => k === `unrouted|${t}`),
    quarantined: f.quarantined,
    quarantinedRate: rates.rate((k) => k === "quarantined"),
  });
  return {
    at: f.at.toISOString(),
    revision: f.revision,
    configSource: f.configSource,
    rateWindowMs: rates.windowMs ?? null,
    countingSince: rates.firstAt === undefined ? null : new Date(rates.firstAt).toISOString(),
    actors,
    history,
    flows,
    router: report.router,
    indexer: report.indexer,
    store: report.store,
    unrouted: f.unroutedCounts === null ? null : Object.values(f.unroutedCounts).reduce((s, v) => s + v, 0),
    quarantined: f.quarantined,
    projections: f.projections ?? [],
  };
}
