import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from "@nats-io/jetstream";
import { msToNanos } from "../config/duration.ts";
import type { StoreSettings } from "../config/types.ts";
import { JetbusError, StoreConflictError, StoreMissingError } from "../errors.ts";
import { retryTransient } from "../nats/connect.ts";
import { isAlreadyExists, isNoPeers, isReplicaRefusal, isResourceRefusal } from "../nats/errors.ts";
import { orMissing } from "../nats/missing.ts";
import { naming, permissionDenied } from "../nats/permission.ts";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import { Subjects, indexStreamFor } from "../topology.ts";

export const EVENT_SUBJECTS = `${EVENTS_PREFIX}.>`;

/** Where each server setting comes from in the config, so a difference names what the user wrote. */
export const SETTING_OF: Readonly<Partial<Record<keyof StreamConfig, string>>> = {
  storage: "store.storage",
  num_replicas: "store.replicas",
  max_age: "store.max_age",
  max_bytes: "store.max_bytes",
  max_msgs: "store.max_msgs",
  max_msg_size: "store.max_msg_size",
  duplicate_window: "store.duplicate_window",
  subjects: "store.stream",
  retention: "store.stream",
};

/** The parts of a stream config jetbus decides; everything else keeps the server's value. */
export type StreamWanted = Pick<
  StreamConfig,
  | "name"
  | "subjects"
  | "retention"
  | "storage"
  | "num_replicas"
  | "max_age"
  | "max_bytes"
  | "max_msgs"
  | "max_msg_size"
  | "duplicate_window"
  | "discard"
  | "allow_direct"
  | "max_msgs_per_subject"
>;
type Desired = StreamWanted;

/** What a caller may do to a store stream. Neither ever changes an existing stream: `jetbus store apply` does that. */
export const StoreAccess = {
  /** Create the stream when it is missing (`jetbus up`, `jetbus router`, the local cluster's provisioning). */
  Create: "create",
  /** Use the stream as found; a missing one is a StoreMissingError (pub, get, history and every other command). */
  Use: "use",
} as const;
export type StoreAccess = (typeof StoreAccess)[keyof typeof StoreAccess];

/** The event stream's config from `store` settings. A duplicate window may not outlast max_age, so it is capped there. */
export function eventStreamConfig(s: StoreSettings): Desired {
  const maxAge = msToNanos(s.max_age);
  const window = msToNanos(s.duplicate_window);
  return {
    name: s.stream,
    subjects: [EVENT_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: s.storage === "memory" ? StorageType.Memory : StorageType.File,
    num_replicas: s.replicas,
    max_age: maxAge,
    max_bytes: s.max_bytes,
    max_msgs: s.max_msgs,
    max_msg_size: s.max_msg_size,
    duplicate_window: maxAge > 0 ? Math.min(window, maxAge) : window,
    discard: DiscardPolicy.Old,
    allow_direct: true,
    max_msgs_per_subject: -1,
  };
}

/**
 * The index stream follows the event stream's retention: same max_age (entries vanish with
 * their events) and three entries per event for a count limit. Its window dedupes index writes.
 */
export function indexStreamConfig(s: StoreSettings): Desired {
  const events = eventStreamConfig(s);
  return {
    ...events,
    name: indexStreamFor(s.stream),
    subjects: [Subjects.indexAll(s.stream)],
    max_bytes: -1,
    max_msgs: s.max_msgs > 0 ? s.max_msgs * 3 : -1,
    max_msg_size: -1,
    // every index subject is a "latest value": with one message per subject, nats-server 2.9
    // finds a subject's last message in O(1) (with several spread-out messages it scans)
    max_msgs_per_subject: 1,
  };
}

/** The stream as the server has it, or null when it does not exist. */
export async function readStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  return naming(`read stream ${name}`, () => retryTransient(() => orMissing(() => jsm.streams.info(name))));
}

/**
 * The stream as the server has it, created from `desired` when it is missing and `access` allows.
 * An existing stream is used as it is, whatever the config says (only `jetbus store apply` changes
 * one, see apply.ts), unless jetbus cannot work with it at all (not limits retention).
 */
export async function ensureStream(jsm: JetStreamManager, desired: Desired, access: StoreAccess = StoreAccess.Create): Promise<StreamInfo> {
  const name = desired.name;
  const found = await readStream(jsm, name);
  if (found) return usable(found, desired);
  if (access === StoreAccess.Use) throw new StoreMissingError(name);
  try {
    return checkReplicas(await retryTransient(() => jsm.streams.add(desired)), desired);
  } catch (err) {
    // another process created it between our look and our add: use theirs
    if (isAlreadyExists(err)) {
      const theirs = await readStream(jsm, name);
      if (theirs) return usable(theirs, desired);
    }
    throw explain(err, desired);
  }
}

function usable(info: StreamInfo, desired: Desired): StreamInfo {
  if (info.config.retention !== desired.retention) {
    throw new StoreConflictError(
      SETTING_OF.retention!,
      `stream ${desired.name} has ${info.config.retention} retention; jetbus needs ${desired.retention} retention for it (use another store.stream name)`,
    );
  }
  return info;
}

/** A server without clustering quietly keeps one replica; say so instead of pretending the data is replicated. */
export function checkReplicas(info: StreamInfo, desired: Desired): StreamInfo {
  if ((desired.num_replicas ?? 1) > 1 && !info.cluster) {
    throw new StoreConflictError(
      SETTING_OF.num_replicas!,
      `stream ${desired.name}: the config asks for ${desired.num_replicas} replicas but the server is not clustered, so it keeps one copy (set store.replicas to 1, or run a JetStream cluster)`,
    );
  }
  return info;
}

/**
 * A server refusal of a create/update: a permission error as one, else named by the config setting
 * most likely behind it (by API code). A duplicate window over max_age cannot reach the server: eventStreamConfig caps it.
 */
export function explain(
  err: unknown,
  desired: Desired,
  operation = `create stream ${desired.name}`,
  changed: readonly string[] = [],
): unknown {
  // a cluster whose meta leader does not know every peer yet: a moment later it can place the stream
  if (err instanceof JetbusError || isNoPeers(err)) return err;
  const denied = permissionDenied(err, operation);
  if (denied) return denied;
  const message = (err as Error)?.message ?? String(err);
  if (isReplicaRefusal(err))
    return new StoreConflictError(
      SETTING_OF.num_replicas!,
      `stream ${desired.name}: the server refused ${desired.num_replicas} replicas: ${message}`,
    );
  if (isResourceRefusal(err)) return new StoreConflictError(SETTING_OF.storage!, `stream ${desired.name}: ${message}`);
  if (changed.length > 0)
    return new StoreConflictError(changed.join(", "), `stream ${desired.name}: the server refused the change: ${message}`);
  return err;
}

/**
 * The store settings as a deployed event stream has them: what a missing index stream is created
 * from, so its entries expire with the events actually stored rather than with a config that differs.
 */
export function deployedSettings(events: Partial<StreamConfig>, s: StoreSettings): StoreSettings {
  return {
    ...s,
    max_age: Math.round((events.max_age ?? 0) / 1e6),
    max_msgs: events.max_msgs ?? s.max_msgs,
    duplicate_window: events.duplicate_window ? Math.round(events.duplicate_window / 1e6) : s.duplicate_window,
  };
}

/** The event stream (`store.stream` over `events.>`): created when missing and `access` allows, else used as found. */
export function ensureEventStream(
  jsm: JetStreamManager,
  store: StoreSettings,
  access: StoreAccess = StoreAccess.Create,
): Promise<StreamInfo> {
  return ensureStream(jsm, eventStreamConfig(store), access);
}

/** The index stream of the store (`JETBUS_INDEX` over `index.<stream>.>`), retention following the event stream. */
export function ensureIndexStream(
  jsm: JetStreamManager,
  store: StoreSettings,
  access: StoreAccess = StoreAccess.Create,
): Promise<StreamInfo> {
  return ensureStream(jsm, indexStreamConfig(store), access);
}

/** Both streams the store needs, event stream first; a missing index follows the event stream as deployed. */
export async function ensureStore(
  jsm: JetStreamManager,
  store: StoreSettings,
  access: StoreAccess = StoreAccess.Create,
): Promise<{ events: StreamInfo; index: StreamInfo }> {
  const events = await ensureEventStream(jsm, store, access);
  const index = await ensureIndexStream(jsm, deployedSettings(events.config, store), access);
  return { events, index };
}
