import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import { orMissing } from "../nats/missing.ts";
import { gatherStatusFacts } from "../operations/status-facts.ts";
import { liveConfig } from "../operations/live-config.ts";
import type { StatusFacts } from "../operations/types.ts";
import { Streams } from "../topology.ts";
import { projectionStatuses, type ProjectionStatus } from "../projection/status.ts";

/** Everything one tick of the live feed reads from NATS, before any interpretation. */
export type LiveFacts = Readonly<{
  at: Date;
  config: JetbusConfig;
  revision: number | null;
  configSource: string;
  status: StatusFacts;
  /** Stored events per type (subject `events.<type>`); null when the store does not exist. */
  typeCounts: Readonly<Record<string, number>> | null;
  /** Unrouted events per type (subject `unrouted.<type>`); null when the stream does not exist. */
  unroutedCounts: Readonly<Record<string, number>> | null;
  quarantined: number | null;
  /** Configured and started projections, lag as their live runners report it (runtime/projection/status.ts). */
  projections: readonly ProjectionStatus[];
}>;

/** Per-subject message counts of a stream, keyed by the subject after `prefix.`; null when the stream is missing. */
async function subjectCounts(jsm: JetStreamManager, stream: string, prefix: string): Promise<Record<string, number> | null> {
  // subjects_filter makes the server count messages per subject in one request
  const info = await orMissing(() => jsm.streams.info(stream, { subjects_filter: `${prefix}.>` }));
  if (!info) return null;
  const out: Record<string, number> = {};
  for (const [subject, n] of Object.entries(info.state.subjects ?? {})) out[subject.slice(prefix.length + 1)] = n;
  return out;
}

/** One read of the whole deployment for the console; never creates anything. */
export async function gatherLiveFacts(nc: NatsConnection, jsm: JetStreamManager, local: JetbusConfig): Promise<LiveFacts> {
  const live = await liveConfig(jsm, local, { localWhenNoAnswer: true });
  const [status, typeCounts, unroutedCounts, quarantine, projections] = await Promise.all([
    gatherStatusFacts(nc, jsm, live.config),
    subjectCounts(jsm, live.config.store.stream, "events"),
    subjectCounts(jsm, Streams.Unrouted, "unrouted"),
    orMissing(() => jsm.streams.info(Streams.Quarantine)),
    // lag from the runners' heartbeats: counting it on the server would make a consumer per projection every tick
    projectionStatuses(nc, live.config, undefined, { countLag: false }).catch(() => []),
  ]);
  return {
    at: status.at,
    config: live.config,
    revision: live.revision,
    configSource: live.source,
    status,
    typeCounts,
    unroutedCounts,
    quarantined: quarantine ? quarantine.state.messages : null,
    projections,
  };
}
