import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { openPresenceBucket } from "../presence/heartbeat.ts";
import { EventSchemas } from "../store/schemas.ts";
import { LiveProjection } from "./live.ts";
import { loadProjection, projectionSettings, type LoadedProjection } from "./module.ts";
import { ProjectionRegistry } from "./registry.ts";

/** What running projections needs of the process (app/bootstrap.ts's Runtime holds it). */
export type ProjectionHost = Readonly<{
  nc: NatsConnection;
  config: JetbusConfig;
  /** Where relative projection `module` paths start. */
  projectDir: string;
  logger: Logger;
}>;

export type RunningProjections = Readonly<{
  projections: readonly LiveProjection[];
  /** Stops every runner after its batch; positions are written. */
  stop(): Promise<void>;
}>;

/** Loads the named configured projections (default all), every module before anything starts. */
export async function loadProjections(
  rt: Pick<ProjectionHost, "config" | "projectDir">,
  names?: readonly string[],
): Promise<LoadedProjection[]> {
  const settings = names && names.length > 0 ? names.map((n) => projectionSettings(rt.config, n)) : rt.config.projections;
  const loaded: LoadedProjection[] = [];
  for (const s of settings) loaded.push(await loadProjection(s, rt.projectDir));
  return loaded;
}

/**
 * Keeps the named projections (default every configured one) live in this process: `jetbus up`
 * runs them all, `jetbus projection run NAME...` some, on any number of machines. Two processes
 * running the same projection both apply every event and neither applies one twice (guarded
 * writes, per-key store sequences): a second one is a hot standby that costs a second read of the store.
 */
export async function startProjections(rt: ProjectionHost, names?: readonly string[]): Promise<RunningProjections> {
  const loaded = await loadProjections(rt, names);
  const running: LiveProjection[] = [];
  const stop = async () => {
    await Promise.all(running.map((p) => p.stop()));
  };
  if (loaded.length === 0) return { projections: running, stop };
  const registry = await ProjectionRegistry.open(rt.nc, { replicas: rt.config.store.replicas });
  const schemas = new EventSchemas();
  let presence: Promise<import("@nats-io/kv").KV> | undefined;
  try {
    for (const l of loaded) {
      const p = new LiveProjection({
        nc: rt.nc,
        stream: rt.config.store.stream,
        replicas: rt.config.store.replicas,
        loaded: l,
        registry,
        schemas,
        logger: rt.logger,
        presence: () => (presence ??= openPresenceBucket(rt.nc, rt.config.store.replicas)),
      });
      await p.start();
      running.push(p);
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { projections: running, stop };
}
