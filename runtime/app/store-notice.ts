import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { describeChange, streamChanges } from "../store/drift.ts";
import { eventStreamConfig } from "../store/stream.ts";

/** Streams this process already spoke about: the notice is said once, however many times a command opens the store. */
const noticed = new Set<string>();

/**
 * One line on stderr when the deployed store differs from the config. Commands use the store as
 * they find it (only `jetbus store apply` changes it), so a laptop config's retention can never
 * purge a shared store; this says so instead of staying silent. Reading is best effort: a missing
 * stream, a user not allowed to read it, or a cluster electing a leader leaves nothing to compare.
 */
export async function noticeStoreDrift(
  nc: NatsConnection,
  config: JetbusConfig,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Promise<void> {
  const stream = config.store.stream;
  if (noticed.has(stream)) return;
  let deployed;
  try {
    // 2 s: a notice must not hold a command up for the client's default 5 s on a slow cluster
    deployed = (await (await jetstreamManager(nc, { checkAPI: false, timeout: 2000 })).streams.info(stream)).config;
  } catch {
    return;
  }
  noticed.add(stream);
  const changes = streamChanges(deployed, eventStreamConfig(config.store));
  if (changes.length === 0) return;
  write(
    `warning: stream ${stream} differs from the config (server -> config: ${changes.map(describeChange).join("; ")}); using it as it is: \`jetbus store apply\` shows the change and applies it\n`,
  );
}
