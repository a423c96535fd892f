import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { DataLossError, StoreConflictError } from "../errors.ts";
import { retryTransient } from "../nats/connect.ts";
import { naming } from "../nats/permission.ts";
import { ChangeEffect } from "../store/drift.ts";
import { checkReplicas, explain, type StreamWanted } from "../store/stream.ts";
import { changesOf, pendingStreams, StreamAction, type StorePlan, type StreamPlan } from "./store-plan.ts";

export type ApplyOptions = Readonly<{
  /** Accept changes that delete stored data (shorter retention, fewer replicas, another storage type). */
  allowDataLoss?: boolean;
  /** Is the server clustered? A replica count above 1 on a single server is refused before anything changes. */
  clustered: boolean;
}>;

/**
 * Refuses a plan that cannot or may not be applied, before anything is changed: a change the
 * server cannot make (StoreConflictError), more than one replica on a single server, or a change
 * that deletes data without `allowDataLoss` (DataLossError, listing what each would delete).
 */
export function checkPlan(plan: StorePlan, opts: ApplyOptions): void {
  const impossible = changesOf(plan, ChangeEffect.Impossible);
  if (impossible.length > 0)
    throw new StoreConflictError(impossible.map((c) => c.setting).join(", "), impossible.map((c) => c.why).join("; "));
  const replicated = pendingStreams(plan).find((s) => (s.desired.num_replicas ?? 1) > 1);
  if (replicated && !opts.clustered) {
    throw new StoreConflictError(
      "store.replicas",
      `stream ${replicated.name}: the config asks for ${replicated.desired.num_replicas} replicas but the server is not clustered, so it would keep one copy (set store.replicas to 1, or run a JetStream cluster)`,
    );
  }
  const losses = changesOf(plan, ChangeEffect.DataLoss);
  if (losses.length > 0 && !opts.allowDataLoss)
    throw new DataLossError(losses.map((c) => ({ stream: c.stream, setting: c.setting, loss: c.loss || c.why || "" })));
}

/** Applies a checked plan stream by stream; returns the names of the streams it created or changed. */
export async function applyPlan(jsm: JetStreamManager, plan: StorePlan, opts: ApplyOptions): Promise<string[]> {
  checkPlan(plan, opts);
  const done: string[] = [];
  for (const s of pendingStreams(plan)) {
    await applyStream(jsm, s);
    done.push(s.name);
  }
  return done;
}

async function applyStream(jsm: JetStreamManager, s: StreamPlan): Promise<void> {
  const desired = s.desired as StreamWanted;
  const settings = s.changes.map((c) => c.setting);
  try {
    if (s.action === StreamAction.Create) {
      checkReplicas(await retryTransient(() => jsm.streams.add(s.desired)), desired);
    } else if (s.action === StreamAction.Recreate) {
      await naming(`delete stream ${s.name}`, () => retryTransient(() => jsm.streams.delete(s.name)));
      await retryTransient(() => jsm.streams.add({ ...keptSettings(s.current), ...s.desired }));
    } else {
      await retryTransient(() => jsm.streams.update(s.name, { ...s.current, ...s.desired }));
    }
  } catch (err) {
    throw explain(err, desired, `${s.action} stream ${s.name}`, settings);
  }
}

/** Of a stream about to be re-created, what its owner set besides jetbus's settings (description, compression, ...). */
function keptSettings(current: StreamConfig | undefined): Partial<StreamConfig> {
  if (!current) return {};
  const { description, compression, placement, metadata } = current;
  return Object.fromEntries(Object.entries({ description, compression, placement, metadata }).filter(([, v]) => v !== undefined));
}
