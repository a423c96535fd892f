import type { JetStreamManager } from "@nats-io/jetstream";
import type { JetbusConfig } from "../config/types.ts";
import { DurabilityError } from "../errors.ts";
import { showValue, streamChanges } from "../store/drift.ts";
import { eventStreamConfig } from "../store/stream.ts";
import { ownedStreams } from "./owned-streams.ts";

export { isJetbusStream } from "./owned-streams.ts";

export const FindingKind = {
  /** An R1/R2 stream or bucket on a cluster: one node loss makes it unavailable or loses it. */
  LowReplicas: "low-replicas",
  /** The deployed event stream differs from what `store` in the config says. */
  ConfigDrift: "config-drift",
  /** Memory storage for the event store: a restart loses every event. */
  MemoryStore: "memory-store",
} as const;
export type FindingKind = (typeof FindingKind)[keyof typeof FindingKind];

export type DurabilityFinding = Readonly<{
  kind: FindingKind;
  /** The stream or bucket (KV buckets are named `KV <bucket>`), or the config key. */
  subject: string;
  problem: string;
}>;

export type DurabilityOptions = Readonly<{
  /** Throw a DurabilityError listing every finding instead of returning them. */
  strict?: boolean;
  /** Is the server part of a cluster? Detected from the connection's INFO and the streams when omitted. */
  clustered?: boolean;
  /** Replicas a cluster stream should have; 3 by default. */
  minReplicas?: number;
}>;

function label(stream: string): string {
  return stream.startsWith("KV_") ? `KV ${stream.slice(3)}` : stream;
}

function serverIsClustered(jsm: JetStreamManager): boolean {
  // the JetStream manager keeps its connection; INFO names the cluster when the server is in one
  const info = (jsm as unknown as { nc?: { info?: { cluster?: string } } }).nc?.info;
  return Boolean(info?.cluster);
}

/**
 * What would not survive a node loss or differs from the config, among jetbus's own streams and
 * buckets. Returns the findings (callers log them as warnings); with `strict` any finding throws.
 */
export async function checkDurability(
  jsm: JetStreamManager,
  config: JetbusConfig,
  opts: DurabilityOptions = {},
): Promise<DurabilityFinding[]> {
  const events = config.store.stream;
  const { streams } = await ownedStreams(jsm, config);
  const clustered = opts.clustered ?? (serverIsClustered(jsm) || streams.some((s) => Boolean(s.cluster?.name)));
  const min = opts.minReplicas ?? 3;
  const findings: DurabilityFinding[] = [];

  if (clustered && config.store.replicas < min) {
    findings.push({
      kind: FindingKind.LowReplicas,
      subject: "store.replicas",
      problem: `is ${config.store.replicas} on a cluster: set it to ${min} so the store survives the loss of a node`,
    });
  }
  if (config.store.storage === "memory") {
    findings.push({
      kind: FindingKind.MemoryStore,
      subject: "store.storage",
      problem: "is memory: every event is lost when the servers restart",
    });
  }
  for (const s of streams) {
    const replicas = s.config.num_replicas ?? 1;
    if (clustered && replicas < min) {
      findings.push({
        kind: FindingKind.LowReplicas,
        subject: label(s.config.name),
        problem: `has ${replicas} replica${replicas === 1 ? "" : "s"} on a cluster (want ${min}): a single node loss ${replicas === 1 ? "loses its data" : "stops its writes"}`,
      });
    }
  }
  const deployed = streams.find((s) => s.config.name === events);
  if (deployed) {
    for (const c of streamChanges(deployed.config, eventStreamConfig(config.store))) {
      findings.push({
        kind: FindingKind.ConfigDrift,
        subject: events,
        problem: `${c.setting} is ${showValue(c.key, c.from)} on the server but ${showValue(c.key, c.to)} in the config`,
      });
    }
  }
  if (opts.strict && findings.length > 0) throw new DurabilityError(findings);
  return findings;
}
