import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import { UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { parseJsonObject, readKvEntries } from "../operations/kv-read.ts";
import { Heartbeat, newReplicaId, presenceKey, PRESENCE_TTL_MS } from "../presence/heartbeat.ts";
import type { EventSchemas } from "../store/schemas.ts";
import { Buckets } from "../topology.ts";
import { ReadModel } from "./model.ts";
import type { LoadedProjection } from "./module.ts";
import { ProjectionRegistry } from "./registry.ts";
import { ProjectionRunner, type RunnerProgress } from "./runner.ts";

export type RebuildOptions = Readonly<{
  nc: NatsConnection;
  stream: string;
  replicas: number;
  loaded: LoadedProjection;
  schemas: EventSchemas;
  logger: Logger;
  presence?: () => Promise<KV>;
  /** Called about once a second while catching up. */
  onProgress?: (p: RunnerProgress) => void;
  /** After the switch, how long to keep the new version up to date while waiting for a live runner to take it over. */
  handOverMs?: number;
}>;

export type RebuildResult = Readonly<{
  name: string;
  version: number;
  /** The version readers used before (its bucket is kept until the next switch). */
  previous: number;
  /** Events the rebuild applied. */
  events: number;
  position: number;
  seconds: number;
  /** Whether a live runner (jetbus up, jetbus projection run) took the new version over before the rebuild stopped. */
  handedOver: boolean;
  /** Versions older than `previous` whose buckets were removed. */
  removed: readonly number[];
}>;

const VERSION_BUCKET = (name: string) => new RegExp(`^KV_${Buckets.projection(name, 0).replace(/0$/, "")}(\\d+)$`);

/**
 * Rebuilds a projection from the store into a new version (a new bucket) beside the one readers
 * use, then switches readers over once it has caught up:
 * 1. the next version number is recorded as `rebuilding` (refused while another rebuild's runner
 *    heartbeats on it; the bucket of an abandoned one is removed);
 * 2. a runner applies every chosen event from the store's start into it, in store order, as live
 *    runners do (same guarded writes, same per-key store sequences);
 * 3. when a batch ends with nothing pending, the record switches to the new version: readers and
 *    live runners follow it (each moves when it sees the change);
 * 4. the rebuild keeps the new version up to date until a live runner heartbeats on it (or
 *    `handOverMs` passes, or none was running), then stops; versions older than the previous one
 *    are removed.
 * Events stored meanwhile are applied by the rebuild's runner, or by a live runner that moved to the
 * new version, or by both: each key's stored sequence makes the second a no-op. So the switch loses
 * and doubles nothing (test/integration/projection-rebuild.int.test.ts).
 */
export async function rebuildProjection(o: RebuildOptions): Promise<RebuildResult> {
  const name = o.loaded.settings.name;
  const t0 = performance.now();
  const registry = await ProjectionRegistry.open(o.nc, { replicas: o.replicas });
  const before = await registry.ensure(name, o.loaded.definition.events, o.loaded.filters);
  const live = await liveRunners(o.nc, name);
  if (before.rebuilding && live.some((r) => r.version === before.rebuilding!.version))
    throw new UsageError(
      `projection "${name}" is being rebuilt into version ${before.rebuilding.version} by another process (started ${before.rebuilding.startedAt}); wait for it`,
    );
  const abandoned = before.rebuilding?.version;
  const record = await registry.change(name, (r) => {
    const current = r!;
    const version = Math.max(current.version, current.previous ?? 0, current.rebuilding?.version ?? 0) + 1;
    return {
      ...current,
      events: o.loaded.definition.events,
      filters: o.loaded.filters,
      rebuilding: { version, startedAt: new Date().toISOString() },
    };
  });
  const version = record.rebuilding!.version;
  if (abandoned !== undefined) await (await ReadModel.open(o.nc, name, abandoned, { replicas: o.replicas })).destroy();
  const model = await ReadModel.open(o.nc, name, version, { replicas: o.replicas });
  const runner = new ProjectionRunner({
    nc: o.nc,
    stream: o.stream,
    filters: o.loaded.filters,
    definition: o.loaded.definition,
    model,
    schemas: o.schemas,
    logger: o.logger,
  });
  const replica = newReplicaId();
  const heartbeat = o.presence
    ? new Heartbeat(
        o.presence,
        presenceKey("projection", name, replica),
        () => ({ role: "projection", name, replica, inFlight: 0, projection: runner.progress }),
        o.logger,
      )
    : undefined;
  await heartbeat?.start();
  const progress = o.onProgress ? setInterval(() => o.onProgress!(runner.progress), 1000) : undefined;
  let previous = before.version;
  let handedOver = false;
  try {
    await runner.start();
    await runner.caughtUp();
    await runner.savePosition();
    const switched = await registry.change(name, (r) => {
      previous = r!.version;
      return { ...r!, version, previous: r!.version, switchedAt: new Date().toISOString(), rebuilding: undefined };
    });
    o.logger.info({ projection: name, version: switched.version, previous }, "readers switched to the rebuilt version");
    await heartbeat?.beat();
    // a runner that was live on the old version moves over when it sees the switch: keep the new version current until one has
    if (live.some((r) => r.replica !== replica)) handedOver = await waitForLiveRunner(o.nc, name, version, replica, o.handOverMs ?? 10_000);
  } finally {
    clearInterval(progress);
    await runner.stop();
    await heartbeat?.stop();
  }
  const removed = await removeOlderThan(o.nc, name, previous);
  const p = runner.progress;
  return {
    name,
    version,
    previous,
    events: p.applied,
    position: p.position,
    seconds: (performance.now() - t0) / 1000,
    handedOver,
    removed,
  };
}

type LiveRunner = Readonly<{ replica: string; version: number }>;

async function liveRunners(nc: NatsConnection, name: string): Promise<LiveRunner[]> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const entries = (await readKvEntries(nc, jsm, Buckets.Presence, `projection.${name}.>`)) ?? [];
  const now = Date.now();
  return entries
    .filter((e) => now - e.at.getTime() < PRESENCE_TTL_MS)
    .map((e) => parseJsonObject(e.value))
    .filter((v) => typeof v.projection === "object" && v.projection !== null)
    .map((v) => ({ replica: String(v.replica), version: Number((v.projection as { version: number }).version) }));
}

async function waitForLiveRunner(nc: NatsConnection, name: string, version: number, self: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await liveRunners(nc, name)).some((r) => r.replica !== self && r.version === version)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Removes the buckets of versions older than `keep` (the previous version stays for a look or a manual switch back). */
async function removeOlderThan(nc: NatsConnection, name: string, keep: number): Promise<number[]> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const pattern = VERSION_BUCKET(name);
  const removed: number[] = [];
  for await (const stream of jsm.streams.names()) {
    const v = Number(pattern.exec(stream)?.[1]);
    if (Number.isInteger(v) && v < keep) {
      await jsm.streams.delete(stream).catch(() => undefined);
      removed.push(v);
    }
  }
  return removed.sort((a, b) => a - b);
}
