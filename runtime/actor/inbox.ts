import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import { msToNanos } from "../config/duration.ts";
import { retryTransient } from "../nats/connect.ts";
import { InboxLayoutError } from "../errors.ts";
import { ApiCode, apiCodeOf, isAlreadyExists, isNotFound, isPermission, isTransient } from "../nats/errors.ts";
import { orMissing } from "../nats/missing.ts";
import { subjectsOverlap } from "../events/type-pattern.ts";
import { Streams, Subjects } from "../topology.ts";
import { ensureDirectConsumers } from "./direct.ts";
import { consumersOf } from "./ordering.ts";
import { refileInbox, type RefileResult } from "./refile.ts";

type StreamWanted = Pick<StreamConfig, "name" | "subjects" | "retention" | "storage" | "num_replicas">;

export function inboxStreamConfig(config: Pick<JetbusConfig, "store">): StreamWanted {
  return {
    name: Streams.Inbox,
    subjects: [Subjects.inboxes],
    retention: RetentionPolicy.Workqueue,
    storage: storageOf(config),
    num_replicas: config.store.replicas,
  };
}

export function deadLetterStreamConfig(config: Pick<JetbusConfig, "store">): StreamWanted {
  return {
    name: Streams.DeadLetter,
    subjects: [Subjects.deadLetterAll],
    retention: RetentionPolicy.Limits,
    storage: storageOf(config),
    num_replicas: config.store.replicas,
  };
}

function storageOf(config: Pick<JetbusConfig, "store">): StorageType {
  return config.store.storage === "memory" ? StorageType.Memory : StorageType.File;
}

/**
 * The durable consumer configs of one actor. max_deliver stays unlimited: the worker counts
 * attempts itself and dead-letters, so a message is never left stuck in the work queue.
 * Ordered partitions allow one unacked message, which is what makes order strict across processes.
 */
export function actorConsumerConfigs(actor: ActorSettings): Array<Partial<ConsumerConfig> & { durable_name: string }> {
  return consumersOf(actor).map((c) => ({
    durable_name: c.durable,
    filter_subject: c.filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: msToNanos(actor.ack_wait),
    max_ack_pending: actor.ordered ? 1 : actor.max_ack_pending,
    max_deliver: -1,
    max_waiting: 512,
  }));
}

async function ensureStream(jsm: JetStreamManager, want: StreamWanted): Promise<void> {
  await retryTransient(async () => {
    try {
      await jsm.streams.info(want.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(want);
      } catch (e) {
        // another process created it between our look and our add
        if (!isAlreadyExists(e)) throw e;
      }
    }
  });
}

/**
 * Who may change an actor's durables. A process that runs the actor (`up`, `jetbus actor`) knows
 * its settings for sure (a stateful module's state key included) and brings the durables to its
 * layout (`Switch`). Everyone else (routers, `replay`, cluster provisioning, tests) creates the
 * durables of an actor that has none yet and leaves an existing layout alone (`CreateMissing`):
 * a router whose config is a revision behind must not flip an actor's durables back and forth.
 */
export const InboxLayout = { CreateMissing: "create-missing", Switch: "switch" } as const;
export type InboxLayout = (typeof InboxLayout)[keyof typeof InboxLayout];

export type EnsureActorOptions = Readonly<{
  /** Every configured actor's name: a durable named like a partition of this one (`x-p1`) may be another actor's. */
  actorNames?: ReadonlySet<string>;
  layout?: InboxLayout;
  /** Told when a layout change filed waiting copies into new partitions. */
  onRefiled?: (r: RefileResult & { actor: string; removed: readonly string[] }) => void;
}>;

/** The durables on JETBUS_INBOX that belong to `actor` under any layout: `<actor>` and `<actor>-p<k>` (unless that is another actor's name). */
function isOwnDurable(name: string, actor: string, actorNames: ReadonlySet<string>): boolean {
  if (name === actor) return true;
  return name.startsWith(`${actor}-p`) && /^\d+$/.test(name.slice(actor.length + 2)) && !actorNames.has(name);
}

async function ownDurables(jsm: JetStreamManager, actor: string, actorNames: ReadonlySet<string>): Promise<ConsumerInfo[]> {
  return retryTransient(async () => {
    const own: ConsumerInfo[] = [];
    for await (const ci of jsm.consumers.list(Streams.Inbox)) if (isOwnDurable(ci.name, actor, actorNames)) own.push(ci);
    return own;
  });
}

/** Same names with the same filters: the layout the settings need is there. */
function sameLayout(own: readonly ConsumerInfo[], wanted: ReturnType<typeof actorConsumerConfigs>): boolean {
  if (own.length !== wanted.length) return false;
  const filters = new Map(own.map((ci) => [ci.name, ci.config.filter_subject]));
  return wanted.every((w) => filters.get(w.durable_name) === w.filter_subject);
}

/**
 * Creates or updates one actor's durables. With `InboxLayout.Switch` an actor whose durables have
 * another layout (unordered <-> ordered, another partition count) gets the new one:
 * 1. the old durables are deleted first (a work-queue stream refuses overlapping filters, so old
 *    and new cannot exist together); their pending and unacked messages stay in the stream,
 *    which keeps a message until some durable acks it;
 * 2. for an ordered actor, every waiting copy is filed into the partition its key maps to now,
 *    in stream order (refileInbox), while no durable reads the inbox;
 * 3. the new durables are created from the start of the stream, so they get everything waiting.
 * An ordered actor whose copies wait on a partition no durable of its layout reads (a switch cut
 * short after step 1, a router on a revision with more partitions) gets the same treatment.
 * A process of the old layout still running loses its durables at step 1 and stops getting
 * events (its consumers log "consumer unavailable; retrying"); what it was handling is delivered
 * again under the new layout (its processed marker skips it if it finished first).
 */
export async function ensureActorConsumers(jsm: JetStreamManager, actor: ActorSettings, opts: EnsureActorOptions = {}): Promise<void> {
  const wanted = actorConsumerConfigs(actor);
  const actorNames = opts.actorNames ?? new Set<string>();
  const own = await ownDurables(jsm, actor.name, actorNames);
  const layout = opts.layout ?? InboxLayout.CreateMissing;
  if (layout === InboxLayout.CreateMissing) {
    // another layout: only the actor's own process changes it
    if (own.length > 0 && !sameLayout(own, wanted)) return;
  } else {
    const filters = new Map(wanted.map((w) => [w.durable_name, w.filter_subject]));
    const stale = own.some((ci) => filters.get(ci.name) !== ci.config.filter_subject);
    // copies on a partition the layout has no durable for (a switch cut short after its deletes, a
    // router on a revision with more partitions) would wait forever: filed again like a switch
    if (stale || (actor.ordered && (await hasStrays(jsm, actor, new Set(filters.values()))))) {
      await switchLayout(jsm, actor, own, opts);
      return;
    }
  }
  for (const cfg of wanted) {
    const existing = own.find((ci) => ci.name === cfg.durable_name);
    await inLayoutChange(
      actor.name,
      cfg.durable_name,
      () =>
        retryTransient(async () => {
          if (!existing) {
            try {
              await jsm.consumers.add(Streams.Inbox, cfg);
            } catch (e) {
              if (!isAlreadyExists(e)) throw e;
            }
            return;
          }
          const c = existing.config;
          if (c.ack_wait !== cfg.ack_wait || c.max_ack_pending !== cfg.max_ack_pending) {
            await jsm.consumers.update(Streams.Inbox, cfg.durable_name, { ack_wait: cfg.ack_wait, max_ack_pending: cfg.max_ack_pending });
          }
        }),
      jsm,
    );
  }
}

/** Copies waiting on one of the actor's inbox subjects that no wanted durable reads. One stream info. */
async function hasStrays(jsm: JetStreamManager, actor: ActorSettings, read: ReadonlySet<string | undefined>): Promise<boolean> {
  const info = await retryTransient(() => jsm.streams.info(Streams.Inbox, { subjects_filter: Subjects.inboxAll(actor.name) }));
  return Object.entries(info.state.subjects ?? {}).some(([subject, n]) => n > 0 && !read.has(subject));
}

async function switchLayout(
  jsm: JetStreamManager,
  actor: ActorSettings,
  own: readonly ConsumerInfo[],
  opts: EnsureActorOptions,
): Promise<void> {
  // every one of them, also a partition durable the new layout has too: the pass below must run
  // while nothing reads the inbox, or a reader could take a copy the pass is moving behind it
  const removed: string[] = [];
  for (const ci of own) {
    await inLayoutChange(
      actor.name,
      ci.name,
      () => retryTransient(() => orMissing(() => jsm.consumers.delete(Streams.Inbox, ci.name))),
      jsm,
    );
    removed.push(ci.name);
  }
  const refiled = actor.ordered
    ? await inLayoutChange(actor.name, undefined, () => refileInbox(jsm, actor), jsm)
    : { scanned: 0, moved: 0 };
  opts.onRefiled?.({ actor: actor.name, removed, ...refiled });
  await ensureActorConsumers(jsm, actor, { ...opts, layout: InboxLayout.CreateMissing });
}

/**
 * Runs one step of a layout change; a refusal waiting cannot fix becomes an InboxLayoutError
 * naming the fix. A permission refusal is the deploy/ least-privilege users (an actor may use its
 * durables, not delete them); an overlap is a consumer jetbus does not own on the actor's subjects.
 */
async function inLayoutChange<T>(actor: string, durable: string | undefined, step: () => Promise<T>, jsm: JetStreamManager): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (isTransient(err)) throw err;
    if (isPermission(err))
      throw new InboxLayoutError(
        actor,
        `this user may not change the actor's durables on ${Streams.Inbox}${durable ? ` (${durable})` : ""}: ${(err as Error).message}`,
        "its settings need other durables (ordered/unordered or another partition count): start `jetbus actor NAME` once as a user that may delete consumers and move messages on JETBUS_INBOX (the admin, e.g. NATS_USER=jetbus-admin), then as before; nothing waiting in its inbox is lost",
        err,
      );
    if (apiCodeOf(err) === ApiCode.ConsumerFilterOverlap) {
      const others = await overlapping(jsm, actor).catch(() => []);
      throw new InboxLayoutError(
        actor,
        `${Streams.Inbox} refused durable ${durable ?? ""}: another consumer reads the same subjects (${others.join(", ") || "unknown"})`,
        `a work-queue stream allows one consumer per subject: remove the other one (\`nats consumer rm ${Streams.Inbox} ${others[0] ?? "NAME"}\`; its messages stay in the inbox), then start again`,
        err,
      );
    }
    throw err;
  }
}

/** Consumers on JETBUS_INBOX that read some of `actor`'s subjects and are not its durables. */
async function overlapping(jsm: JetStreamManager, actor: string): Promise<string[]> {
  const names: string[] = [];
  for await (const ci of jsm.consumers.list(Streams.Inbox)) {
    const filters = ci.config.filter_subjects ?? (ci.config.filter_subject ? [ci.config.filter_subject] : [">"]);
    if (ci.name !== actor && filters.some((f) => subjectsOverlap(f, Subjects.inboxAll(actor)))) names.push(ci.name);
  }
  return names;
}

/**
 * Idempotent: JETBUS_INBOX (WorkQueue over `actors.>`), JETBUS_DLQ (over `dlq.>`), every
 * configured actor's durable consumers and the store durables of direct actors. Whoever starts first (router or actor) creates them.
 */
export async function ensureInbox(jsm: JetStreamManager, config: Pick<JetbusConfig, "store" | "actors" | "routes">): Promise<void> {
  await ensureInboxStreams(jsm, config);
  const actorNames = new Set(config.actors.map((a) => a.name));
  // a direct actor keeps its inbox durable too: replays and copies from before it became direct arrive there
  for (const actor of config.actors) await ensureActorConsumers(jsm, actor, { actorNames });
  await ensureDirectConsumers(jsm, config.store.stream, config, { update: false });
}

/** JETBUS_INBOX and JETBUS_DLQ. */
export async function ensureInboxStreams(jsm: JetStreamManager, config: Pick<JetbusConfig, "store">): Promise<void> {
  await ensureStream(jsm, inboxStreamConfig(config));
  await ensureStream(jsm, deadLetterStreamConfig(config));
}
