import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { NotFoundError } from "../errors.ts";
import { orMissing } from "../nats/missing.ts";
import { parseJsonObject, readKvEntries } from "../operations/kv-read.ts";
import { PRESENCE_TTL_MS } from "../presence/heartbeat.ts";
import { Buckets } from "../topology.ts";
import { ReadModel } from "./model.ts";
import { ProjectionRegistry, type ProjectionRecord } from "./registry.ts";
import type { RunnerProgress } from "./runner.ts";

/** A live runner of a projection as its heartbeat says. */
export type ProjectionRunnerFact = Readonly<{ replica: string; host?: string; pid?: number; ageMs: number } & RunnerProgress>;

/** What `projection status`, the console and the API say about one projection. */
export type ProjectionStatus = Readonly<{
  name: string;
  /** In the config's projections[] (a projection only in the registry ran under an older config). */
  configured: boolean;
  /** Never run: nothing in KV jetbus-projections yet. */
  started: boolean;
  /** The version readers use. */
  version?: number;
  previous?: number;
  switchedAt?: string;
  rebuilding?: ProjectionRecord["rebuilding"];
  events: readonly string[];
  /** Every chosen event up to this store sequence is in the version readers use. */
  position?: number;
  /** Chosen events stored after `position`: how far the read model is behind the store. */
  lag?: number;
  /** Runners heartbeating now, on any version (a rebuild's runner shows on the new one). */
  runners: readonly ProjectionRunnerFact[];
  /** The first runner on the current version that is stuck on an event, with where and why. */
  stalled?: Readonly<{ seq: number; error: string }>;
}>;

/**
 * Every configured projection (or the named ones) with its version, position and lag: the
 * registry record, the position of the version readers use (the newest of its position key and
 * what its live runners report), and the lag counted by the server (an ordered consumer from
 * that position over the projection's subjects, made and deleted here), or with `countLag: false`
 * as the most advanced live runner last reported it (undefined without one). Creates nothing else.
 */
export async function projectionStatuses(
  nc: NatsConnection,
  config: Pick<JetbusConfig, "projections" | "store">,
  names?: readonly string[],
  opts: { countLag?: boolean } = {},
): Promise<ProjectionStatus[]> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const registryExists = await orMissing(() => jsm.streams.info(`KV_${Buckets.Projections}`));
  const records = registryExists ? await (await ProjectionRegistry.bind(nc)).list() : [];
  const presence = (await readKvEntries(nc, jsm, Buckets.Presence, "projection.>")) ?? [];
  const now = Date.now();
  const configured = new Set(config.projections.map((p) => p.name));
  const all = [...new Set([...config.projections.map((p) => p.name), ...records.map((r) => r.name)])];
  const chosen = names && names.length > 0 ? names : all;
  return Promise.all(
    chosen.map(async (name) => {
      const record = records.find((r) => r.name === name);
      const runners: ProjectionRunnerFact[] = presence
        .map((e) => ({ value: parseJsonObject(e.value), ageMs: now - e.at.getTime() }))
        .filter((p) => p.value.name === name && p.ageMs < PRESENCE_TTL_MS && typeof p.value.projection === "object" && p.value.projection)
        .map((p) => ({
          replica: String(p.value.replica),
          host: typeof p.value.host === "string" ? p.value.host : undefined,
          pid: typeof p.value.pid === "number" ? p.value.pid : undefined,
          ageMs: p.ageMs,
          ...(p.value.projection as RunnerProgress),
        }));
      if (!record) return { name, configured: configured.has(name), started: false, events: [], runners };
      const model = await ReadModel.bind(nc, name, record.version).catch((err: unknown) => {
        if (err instanceof NotFoundError) return null;
        throw err;
      });
      const live = runners.filter((r) => r.version === record.version);
      const position = Math.max(model ? await model.position() : 0, ...live.map((r) => r.position));
      // counted by the server, or (the console, every 2 s) as the most advanced live runner last reported it
      const ahead = live.reduce<ProjectionRunnerFact | undefined>((a, r) => (!a || r.position > a.position ? r : a), undefined);
      const lag = opts.countLag === false ? ahead?.pending : await countAfter(nc, config.store.stream, record.filters, position);
      const stalled = live.find((r) => r.stalled)?.stalled;
      return {
        name,
        configured: configured.has(name),
        started: true,
        version: record.version,
        ...(record.previous !== undefined ? { previous: record.previous } : {}),
        ...(record.switchedAt ? { switchedAt: record.switchedAt } : {}),
        ...(record.rebuilding ? { rebuilding: record.rebuilding } : {}),
        events: record.events,
        position,
        lag,
        runners,
        ...(stalled ? { stalled } : {}),
      };
    }),
  );
}

/** Events on `filters` stored after `seq`, as the server counts them (0 when the store does not exist). */
export async function countAfter(nc: NatsConnection, stream: string, filters: readonly string[], seq: number): Promise<number> {
  const consumer = await orMissing(() =>
    jetstream(nc).consumers.get(stream, {
      filter_subjects: [...filters],
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: seq + 1,
    }),
  );
  if (!consumer) return 0;
  try {
    return (await consumer.info(true)).num_pending;
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

/** `projection status` as text: one line per projection. */
export function renderProjectionStatus(list: readonly ProjectionStatus[]): string {
  if (list.length === 0) return "no projections configured\n";
  const rows = [["PROJECTION", "VERSION", "POSITION", "LAG", "RUNNERS", "STATE"]];
  for (const p of list) {
    const state = !p.started
      ? "not started"
      : p.stalled
        ? `stalled at seq ${p.stalled.seq}: ${p.stalled.error}`
        : p.rebuilding
          ? `rebuilding version ${p.rebuilding.version}`
          : p.runners.some((r) => r.version === p.version)
            ? p.lag === 0
              ? "caught up"
              : "catching up"
            : "no runner";
    rows.push([
      p.configured ? p.name : `${p.name} (not configured)`,
      p.version === undefined ? "-" : String(p.version),
      p.position === undefined ? "-" : String(p.position),
      p.lag === undefined ? "-" : String(p.lag),
      String(p.runners.filter((r) => r.version === p.version).length),
      state,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}
