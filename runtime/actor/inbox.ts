import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import { msToNanos } from "../config/duration.ts";
import { retryTransient } from "../nats/connect.ts";
import { isAlreadyExists, isNotFound } from "../nats/errors.ts";
import { Streams, Subjects } from "../topology.ts";
import { ensureDirectConsumers } from "./direct.ts";
import { consumersOf } from "./ordering.ts";

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

/** Creates or updates one actor's durables; stale durables of the same actor whose filters would overlap are removed. */
export async function ensureActorConsumers(
  jsm: JetStreamManager,
  actor: ActorSettings,
  actorNames: ReadonlySet<string> = new Set(),
): Promise<void> {
  const wanted = actorConsumerConfigs(actor);
  const names = new Set(wanted.map((w) => w.durable_name));
  await retryTransient(async () => {
    for await (const ci of jsm.consumers.list(Streams.Inbox)) {
      const own = ci.name === actor.name || ci.name.startsWith(`${actor.name}-p`);
      // a WorkQueue stream refuses overlapping filters: an actor switched between ordered and
      // unordered, or re-partitioned, must lose its old durables (its messages stay in the stream)
      if (own && !names.has(ci.name) && !actorNames.has(ci.name) && /^\d*$/.test(ci.name.slice(actor.name.length + 2)))
        await jsm.consumers.delete(Streams.Inbox, ci.name);
    }
  });
  for (const cfg of wanted) {
    await retryTransient(async () => {
      let existing;
      try {
        existing = await jsm.consumers.info(Streams.Inbox, cfg.durable_name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
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
    });
  }
}

/**
 * Idempotent: JETBUS_INBOX (WorkQueue over `actors.>`), JETBUS_DLQ (over `dlq.>`), every
 * configured actor's durable consumers and the store durables of direct actors. Whoever starts first (router or actor) creates them.
 */
export async function ensureInbox(jsm: JetStreamManager, config: Pick<JetbusConfig, "store" | "actors" | "routes">): Promise<void> {
  await ensureStream(jsm, inboxStreamConfig(config));
  await ensureStream(jsm, deadLetterStreamConfig(config));
  const actorNames = new Set(config.actors.map((a) => a.name));
  // a direct actor keeps its inbox durable too: replays and copies from before it became direct arrive there
  for (const actor of config.actors) await ensureActorConsumers(jsm, actor, actorNames);
  await ensureDirectConsumers(jsm, config.store.stream, config, { update: false });
}
