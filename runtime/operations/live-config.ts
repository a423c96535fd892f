import type { JetStreamManager } from "@nats-io/jetstream";
import { configFrom } from "../config/load.ts";
import type { JetbusConfig } from "../config/types.ts";
import { Buckets, ConfigKeys } from "../topology.ts";
import { readKvEntry } from "./kv-read.ts";
import { isNoAnswer, orNoAnswer } from "../nats/missing.ts";

/** KV jetbus-config key holding the applied config (routing area: ConfigStore). */
export const ROUTES_KEY = ConfigKeys.Routes;

export type LiveConfig = Readonly<{ config: JetbusConfig; revision: number | null; source: string }>;

/**
 * The config the running routers use: the latest revision in KV jetbus-config when one was
 * applied, else the local file's. Read-only (the bucket is never created here), and the store
 * and connection settings always come from the local file: they describe where this process is.
 */
export async function liveConfig(
  jsm: JetStreamManager,
  local: JetbusConfig,
  opts: { localWhenNoAnswer?: boolean } = {},
): Promise<LiveConfig> {
  const read = () => readKvEntry(jsm, Buckets.Config, ROUTES_KEY);
  // status and the console show what they can while the cluster re-elects after a node died;
  // commands that act on the routing (replay) must not guess, so they get the error
  const entry = opts.localWhenNoAnswer ? await orNoAnswer(read) : await read();
  if (isNoAnswer(entry)) return { config: local, revision: null, source: `local config (${Buckets.Config}: no answer)` };
  if (!entry) return { config: local, revision: null, source: "local config" };
  let stored: JetbusConfig;
  try {
    stored = configFrom(JSON.parse(new TextDecoder().decode(entry.value)), `${Buckets.Config} revision ${entry.revision}`);
  } catch (err) {
    // an operator command must still work when the stored revision is unreadable to this version
    return {
      config: local,
      revision: null,
      source: `local config (${Buckets.Config} revision ${entry.revision} unreadable: ${(err as Error).message.split("\n")[0]})`,
    };
  }
  return {
    config: { ...local, actors: stored.actors, routes: stored.routes },
    revision: entry.revision,
    source: `${Buckets.Config} revision ${entry.revision}`,
  };
}
