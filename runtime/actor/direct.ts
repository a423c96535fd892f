import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { msToNanos } from "../config/duration.ts";
import { directFilterOf, isDirect, type DirectConfig } from "../config/direct.ts";
import type { ActorSettings } from "../config/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { Consumers } from "../topology.ts";

// A direct actor's durable on the store. Which subjects it filters on, and what makes a config
// unable to have one, is config/direct.ts (config validation runs it too).

/** The durable of a direct actor on the store; limits as its inbox durable's. */
export function directConsumerConfig(actor: ActorSettings, subjects: string[]): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: Consumers.direct(actor.name),
    filter_subjects: subjects,
    ack_policy: AckPolicy.Explicit,
    ack_wait: msToNanos(actor.ack_wait),
    max_ack_pending: actor.max_ack_pending,
    max_deliver: -1,
    max_waiting: 512,
  };
}

function sameSubjects(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((s, i) => s === b[i]);
}

/**
 * Creates the store durable of every direct actor. A new one starts where the router's
 * competing lane has acked up to (the events it has not routed yet, as a new inbox copy would),
 * or at the store's start before any router ran. With `update` (routers, which run the live
 * config revision) an existing one keeps its position and gets the current filter_subjects,
 * ack_wait and max_ack_pending; an actor process, whose config file may be older than the live
 * revision, only creates missing ones (`only`: of the actors it runs).
 */
export async function ensureDirectConsumers(
  jsm: JetStreamManager,
  stream: string,
  config: DirectConfig,
  opts: { update: boolean; only?: ReadonlySet<string> },
): Promise<void> {
  for (const [i, actor] of config.actors.entries()) {
    if (!isDirect(actor) || (opts.only && !opts.only.has(actor.name))) continue;
    const { subjects } = directFilterOf(i, config);
    if (subjects.length === 0) continue; // an invalid config never gets here (validation)
    const want = directConsumerConfig(actor, subjects);
    await retryTransient(async () => {
      const existing = await orMissing(() => jsm.consumers.info(stream, want.durable_name));
      if (existing) {
        if (!opts.update) return;
        const c = existing.config;
        const filters = c.filter_subjects ?? (c.filter_subject ? [c.filter_subject] : undefined);
        if (!sameSubjects(filters, subjects) || c.ack_wait !== want.ack_wait || c.max_ack_pending !== want.max_ack_pending)
          await jsm.consumers.update(stream, want.durable_name, {
            filter_subjects: subjects,
            ack_wait: want.ack_wait,
            max_ack_pending: want.max_ack_pending,
          });
        return;
      }
      const router = await orMissing(() => jsm.consumers.info(stream, Consumers.router));
      const floor = router?.ack_floor.stream_seq ?? 0;
      const start =
        floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All };
      await jsm.consumers.add(stream, { ...want, ...start }).catch(async (err) => {
        // another process created it between our look and our add
        if (!(await orMissing(() => jsm.consumers.info(stream, want.durable_name)))) throw err;
      });
    });
  }
}
