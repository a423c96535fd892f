import type { JetStreamManager, StreamConfig, StreamInfo } from "@nats-io/jetstream";
import type { JetbusConfig } from "../config/types.ts";
import { deadLetterStreamConfig, inboxStreamConfig } from "../actor/inbox.ts";
import { routerStreamConfigs } from "../routing/inbox.ts";
import { ChangeEffect, describeChange, streamChanges, type StreamChange } from "../store/drift.ts";
import { measureLoss } from "../store/loss.ts";
import { eventStreamConfig, indexStreamConfig, readStream } from "../store/stream.ts";

export const StreamAction = {
  Create: "create",
  Change: "change",
  /** Storage type differs: the server cannot convert, so the stream is deleted and created again. */
  Recreate: "recreate",
  None: "none",
} as const;
export type StreamAction = (typeof StreamAction)[keyof typeof StreamAction];

export type PlannedChange = StreamChange & Readonly<{ loss?: string }>;

export type StreamPlan = Readonly<{
  name: string;
  action: StreamAction;
  desired: Partial<StreamConfig> & { name: string };
  /** The stream as the server has it (absent for Create). */
  current?: StreamConfig;
  changes: readonly PlannedChange[];
}>;

export type StorePlan = Readonly<{ streams: readonly StreamPlan[] }>;

/** Every stream jetbus owns, as this config wants it: the store and its index first. */
export function wantedStreams(config: JetbusConfig): Array<Partial<StreamConfig> & { name: string }> {
  return [
    eventStreamConfig(config.store),
    indexStreamConfig(config.store),
    inboxStreamConfig(config),
    deadLetterStreamConfig(config),
    ...routerStreamConfigs(config),
  ];
}

/** Reads each stream and builds the plan: what to create, what to change and what that would delete. */
export async function planStore(jsm: JetStreamManager, config: JetbusConfig): Promise<StorePlan> {
  const streams: StreamPlan[] = [];
  for (const desired of wantedStreams(config)) {
    const info = await readStream(jsm, desired.name);
    streams.push(info ? await planStream(jsm, info, desired) : { name: desired.name, action: StreamAction.Create, desired, changes: [] });
  }
  return { streams };
}

async function planStream(jsm: JetStreamManager, info: StreamInfo, desired: Partial<StreamConfig> & { name: string }): Promise<StreamPlan> {
  const changes: PlannedChange[] = [];
  for (const c of streamChanges(info.config, desired))
    changes.push(c.effect === ChangeEffect.DataLoss ? { ...c, loss: await measureLoss(jsm, info, c) } : c);
  const action =
    changes.length === 0 ? StreamAction.None : changes.some((c) => c.key === "storage") ? StreamAction.Recreate : StreamAction.Change;
  return { name: desired.name, action, desired, current: info.config, changes };
}

export function pendingStreams(plan: StorePlan): StreamPlan[] {
  return plan.streams.filter((s) => s.action !== StreamAction.None);
}

export function changesOf(plan: StorePlan, effect: ChangeEffect): Array<PlannedChange & { stream: string }> {
  return plan.streams.flatMap((s) => s.changes.filter((c) => c.effect === effect).map((c) => ({ ...c, stream: s.name })));
}

/** The diff a person reads before anything is applied. */
export function renderPlan(plan: StorePlan): string {
  const pending = pendingStreams(plan);
  if (pending.length === 0) return `store: the server matches the config (${plan.streams.map((s) => s.name).join(", ")})\n`;
  const lines: string[] = [];
  for (const s of pending) {
    if (s.action === StreamAction.Create) {
      lines.push(
        `${s.name}: create (${s.desired.storage ?? "file"} storage, ${s.desired.num_replicas ?? 1} replica${(s.desired.num_replicas ?? 1) === 1 ? "" : "s"})`,
      );
      continue;
    }
    lines.push(`${s.name}: ${s.action === StreamAction.Recreate ? "delete and re-create" : "change"}`);
    for (const c of s.changes) {
      const note =
        c.effect === ChangeEffect.DataLoss
          ? `  DATA LOSS: ${c.loss || c.why}`
          : c.effect === ChangeEffect.Impossible
            ? `  IMPOSSIBLE: ${c.why}`
            : "";
      lines.push(`  ${describeChange(c)}${note}`);
    }
  }
  const same = plan.streams.filter((s) => s.action === StreamAction.None).map((s) => s.name);
  if (same.length > 0) lines.push(`unchanged: ${same.join(", ")}`);
  return lines.join("\n") + "\n";
}
