import type { JetbusConfig } from "../config/types.ts";
import { configDiff, isEmptyDiff, renderConfigDiff, type ConfigDiff } from "../operations/config-diff.ts";
import { ConfigStore } from "../routing/config-store.ts";
import type { Runtime } from "./bootstrap.ts";

export type ConfigSync =
  | Readonly<{ kind: "none-stored" }>
  | Readonly<{ kind: "same"; revision: number }>
  | Readonly<{ kind: "applied"; revision: number; previous: number; diff: ConfigDiff }>
  | Readonly<{ kind: "differs"; revision: number; diff: ConfigDiff }>;

/**
 * Compares a config file with the live revision the routers run (KV jetbus-config). On the
 * embedded server, a local development store, the file is what the developer means: it is
 * applied. On a deployment, the live revision is an operator's decision: only the difference is
 * reported. With nothing stored yet, the first router seeds the file as it always did.
 */
export async function syncLiveConfig(rt: Runtime, file: JetbusConfig, source: string): Promise<ConfigSync> {
  const store = await ConfigStore.open(rt.nc, { replicas: rt.config.store.replicas });
  const live = await store.current();
  if (!live) return { kind: "none-stored" };
  const diff = configDiff(live.config, file);
  if (isEmptyDiff(diff)) return { kind: "same", revision: live.revision };
  if (!rt.embedded) return { kind: "differs", revision: live.revision, diff };
  const applied = await store.apply(structuredClone(file), source);
  return { kind: "applied", revision: applied.revision, previous: live.revision, diff };
}

/** What `jetbus up` tells the developer about a sync, or nothing when there is nothing to say. */
export function describeSync(sync: ConfigSync, file: string, servers: readonly string[]): string | undefined {
  switch (sync.kind) {
    case "none-stored":
    case "same":
      return undefined;
    case "applied":
      return `applied ${file} as config revision ${sync.revision} (the embedded server held revision ${sync.previous}; ${renderConfigDiff(sync.diff).join("; ")})`;
    case "differs":
      return [
        `${file} differs from live config revision ${sync.revision}, which the routers keep using:`,
        ...renderConfigDiff(sync.diff).map((l) => `  ${l}`),
        `apply it with: jetbus config apply ${file} --servers ${servers.join(",")}`,
      ].join("\n");
  }
}
