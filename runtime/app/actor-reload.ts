import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { startActors, type RunningActors } from "../actor/start.ts";
import { withNotifications } from "../notify/start.ts";
import { handlerSourceFor, modulePathOf } from "../actor/module-loader.ts";
import { resolveStateOrdering } from "../actor/state/ordering-default.ts";
import { loadConfig } from "../config/load.ts";
import type { JetbusConfig } from "../config/types.ts";
import type { Runtime } from "./bootstrap.ts";
import { describeSync, syncLiveConfig } from "./config-sync.ts";

/** Editors save in bursts (write, rename, chmod): one reload per burst. */
const SETTLE_MS = 150;

export type ActorReloader = Readonly<{
  /** How many reloads (applied or skipped) have finished: tests wait on it. */
  reloads(): number;
  /** Stops watching, waits for a reload under way, then stops the actors (see RunningActors.stop). */
  stop(graceMs?: number, cutShort?: Promise<unknown>): Promise<void>;
}>;

/** The files a config's actors come from: the config itself and every actor module. */
function watchedFiles(configPath: string, config: JetbusConfig, projectDir: string): string[] {
  const modules = config.actors.map((a) => modulePathOf(a, projectDir)).filter((f): f is string => f !== undefined);
  return [resolve(configPath), ...modules];
}

/**
 * `jetbus up --watch`: runs the config's actors and restarts them when the config file or an actor
 * module changes. A reload first loads the new config and every module (under a new URL, so the
 * edited file is imported again); if anything is invalid it logs why and keeps the running actors.
 * Then the old workers stop gracefully (in-flight handlings finish and are acked; nothing is
 * fetched meanwhile, and what stays in the durable consumer is delivered to the new workers), the
 * config is synced with the live revision (applied on the embedded server), and the new workers start.
 * Files imported by an actor module are not watched and keep their first loaded version.
 */
export async function watchActors(rt: Runtime, configPath: string, graceMs?: number): Promise<ActorReloader> {
  let version = 0;
  let config = rt.config;
  let running: RunningActors = await withNotifications(rt, await startActors(rt, undefined, { moduleVersion: version }), undefined, {
    moduleVersion: version,
  });
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let done = 0;
  let stopped = false;

  const rewatch = () => {
    for (const w of watchers) w.close();
    const files = watchedFiles(configPath, config, rt.projectDir);
    // directories, not files: an editor that saves by rename replaces the inode a file watch holds
    const byDir = new Map<string, Set<string>>();
    for (const f of files) byDir.set(dirname(f), (byDir.get(dirname(f)) ?? new Set()).add(basename(f)));
    watchers = [...byDir].map(([dir, names]) =>
      watch(dir, (_event, name) => {
        if (name && names.has(name.toString())) schedule();
      }),
    );
  };

  const reload = async () => {
    if (stopped) return;
    const next = version + 1;
    let fresh: JetbusConfig;
    try {
      // every module before anything stops: a syntax error keeps the running actors. A stateful
      // actor without "ordered" is ordered on its state key, for the router too (synced below)
      fresh = await resolveStateOrdering(loadConfig(configPath), rt.projectDir, { mode: "strict", source: configPath, version: next });
      for (const a of fresh.actors) await handlerSourceFor(a, rt.projectDir, { version: next });
    } catch (err) {
      rt.logger.error({ err }, "reload skipped: the running actors stay as they were");
      return;
    }
    version = next;
    rt.logger.info({ version }, "reloading: waiting for in-flight handlings to finish");
    await running.stop(graceMs);
    config = { ...rt.config, actors: fresh.actors, routes: fresh.routes };
    const message = describeSync(await syncLiveConfig(rt, config, configPath), configPath, rt.servers);
    if (message) rt.logger.info(message);
    const withConfig = { ...rt, config };
    running = await withNotifications(withConfig, await startActors(withConfig, undefined, { moduleVersion: version }), undefined, {
      moduleVersion: version,
    });
    rewatch();
    rt.logger.info({ actors: config.actors.map((a) => a.name), version }, "reloaded actors");
  };

  function schedule(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      chain = chain
        .then(reload)
        .catch((err: unknown) => rt.logger.error({ err }, "reload failed"))
        .finally(() => void done++);
    }, SETTLE_MS);
  }

  rewatch();
  return {
    reloads: () => done,
    async stop(grace?: number, cutShort?: Promise<unknown>) {
      stopped = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
      await chain;
      await running.stop(grace ?? graceMs, cutShort);
    },
  };
}
