import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";

import { DurabilityError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { retryTransient } from "../nats/connect.ts";

/** What a process does with the durability check when it starts. */
export const DurabilityMode = {
  /** One-shot commands (get, pub, history ...): no check, they store nothing long-lived. */
  Off: "off",
  /** Long-running processes by default: every finding is a pino warning, the process starts anyway. */
  Warn: "warn",
  /** `--strict`: any finding is a DurabilityError and nothing starts. */
  Strict: "strict",
} as const;
export type DurabilityMode = (typeof DurabilityMode)[keyof typeof DurabilityMode];

/**
 * The start-up durability check (R1 streams or buckets on a cluster, a store config that differs
 * from what is deployed). Runs before any service, so a strict process refuses before it
 * creates a consumer or routes anything.
 */
export async function checkDurabilityAtStartup(
  nc: NatsConnection,
  config: JetbusConfig,
  logger: Logger,
  mode: DurabilityMode,
): Promise<void> {
  if (mode === DurabilityMode.Off) return;
  // imported here: one-shot commands (mode Off) never load the cluster checks
  const { checkDurability, FindingKind } = await import("../cluster/durability.ts");
  // a cluster still electing leaders answers "no responders" for a moment: not a finding
  const findings = await retryTransient(async () => checkDurability(await jetstreamManager(nc), config));
  if (findings.length === 0) return;
  if (mode === DurabilityMode.Strict) throw new DurabilityError(findings);
  for (const f of findings) logger.warn({ durability: f.kind, subject: f.subject }, `durability: ${f.subject} ${f.problem}`);
  // this process never changes a store it finds: point at the one step that does
  if (findings.some((f) => f.kind === FindingKind.ConfigDrift))
    logger.warn(
      { durability: FindingKind.ConfigDrift, subject: config.store.stream },
      `durability: stream ${config.store.stream} is used as it is; \`jetbus store apply\` shows the differences and applies them`,
    );
}
