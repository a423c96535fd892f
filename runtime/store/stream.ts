import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from "@nats-io/jetstream";
import { toNanos } from "../config/duration.ts";
import type { StoreSettings } from "../config/types.ts";
import { StoreConflictError } from "../errors.ts";
import { retryTransient } from "../nats/connect.ts";
import { isNotFound, isReplicaRefusal, isResourceRefusal } from "../nats/errors.ts";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import { Subjects, indexStreamFor } from "../topology.ts";

export const EVENT_SUBJECTS = `${EVENTS_PREFIX}.>`;

/** The parts of a stream config jetbus decides; everything else keeps the server's value. */
type Desired = Pick<StreamConfig, "name" | "subjects" | "retention" | "storage" | "num_replicas" | "max_age" | "max_bytes" | "max_msgs" | "max_msg_size" | "duplicate_window" | "discard" | "allow_direct" | "max_msgs_per_subject">;

/** Where each server setting comes from in the config, so a conflict names what the user wrote. */
const SETTING_OF: Readonly<Record<string, string>> = {
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

/** The event stream's config from `store` settings. A duplicate window may not outlast max_age, so it is capped there. */
export function eventStreamConfig(s: StoreSettings): Desired {
  const maxAge = toNanos(s.max_age);
  const window = toNanos(s.duplicate_window);
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

/** Is every subject of `existing` inside `wanted` (so replacing them orphans nothing)? */
function covered(existing: readonly string[], wanted: readonly string[]): string[] {
  const matches = (w: string, s: string) => {
    if (w === s) return true;
    const wt = w.split("."), st = s.split(".");
    for (let i = 0; i < wt.length; i++) {
      if (wt[i] === ">") return st.length > i;
      if (i >= st.length) return false;
      if (wt[i] !== "*" && wt[i] !== st[i]) return false;
    }
    return wt.length === st.length;
  };
  return existing.filter((s) => !wanted.some((w) => matches(w, s)));
}

function differences(current: StreamConfig, desired: Desired): string[] {
  const changed: string[] = [];
  for (const key of Object.keys(desired) as Array<keyof Desired>) {
    const a = current[key], b = desired[key];
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) changed.push(key);
  }
  return changed;
}

/**
 * Creates the stream, or updates it in place when the config changed; a change the server
 * cannot apply in place (storage type, retention, dropping subjects that hold data) is refused
 * with a StoreConflictError naming the setting. Nothing is ever deleted here.
 */
export async function ensureStream(jsm: JetStreamManager, desired: Desired): Promise<StreamInfo> {
  const name = desired.name;
  let info: StreamInfo | undefined;
  try {
    info = await retryTransient(() => jsm.streams.info(name));
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!info) {
    try {
      return checkReplicas(await retryTransient(() => jsm.streams.add(desired)), desired);
    } catch (err) {
      throw explain(err, desired);
    }
  }
  const current = info.config;
  if (current.storage !== desired.storage) {
    throw new StoreConflictError(SETTING_OF.storage!, `stream ${name} uses ${current.storage} storage and the config asks for ${desired.storage}; the server cannot convert a stream in place (create a new stream with a different store.stream and move the events)`);
  }
  if (current.retention !== desired.retention) {
    throw new StoreConflictError(SETTING_OF.retention!, `stream ${name} has ${current.retention} retention; jetbus needs limits retention for a store (use another store.stream name)`);
  }
  const orphaned = covered(current.subjects ?? [], desired.subjects ?? []);
  if (orphaned.length > 0) {
    throw new StoreConflictError(SETTING_OF.subjects!, `stream ${name} also captures ${orphaned.join(", ")}; dropping ${orphaned.length === 1 ? "that subject" : "those subjects"} would orphan stored messages (use another store.stream name, or edit the stream by hand)`);
  }
  const changed = differences(current, desired);
  if (changed.length === 0) return checkReplicas(info, desired);
  let updated: StreamInfo;
  try {
    updated = await retryTransient(() => jsm.streams.update(name, { ...current, ...desired }));
  } catch (err) {
    throw explain(err, desired, changed);
  }
  return checkReplicas(updated, desired);
}

/** A server without clustering quietly keeps one replica; say so instead of pretending the data is replicated. */
function checkReplicas(info: StreamInfo, desired: Desired): StreamInfo {
  if ((desired.num_replicas ?? 1) > 1 && !info.cluster) {
    throw new StoreConflictError(SETTING_OF.num_replicas!, `stream ${desired.name}: the config asks for ${desired.num_replicas} replicas but the server is not clustered, so it keeps one copy (set store.replicas to 1, or run a JetStream cluster)`);
  }
  return info;
}

/**
 * A server refusal of a create/update, named by the config setting most likely behind it (by API
 * code). A duplicate window over max_age cannot reach the server: eventStreamConfig caps it.
 */
function explain(err: unknown, desired: Desired, changed: string[] = []): unknown {
  const message = (err as Error)?.message ?? String(err);
  if (isReplicaRefusal(err)) return new StoreConflictError(SETTING_OF.num_replicas!, `stream ${desired.name}: the server refused ${desired.num_replicas} replicas: ${message}`);
  if (isResourceRefusal(err)) return new StoreConflictError(SETTING_OF.storage!, `stream ${desired.name}: ${message}`);
  if (changed.length > 0) return new StoreConflictError(changed.map((k) => SETTING_OF[k] ?? k).join(", "), `stream ${desired.name}: the server refused the change: ${message}`);
  return err;
}

/** The event stream (`store.stream` over `events.>`) as the config describes it. */
export function ensureEventStream(jsm: JetStreamManager, store: StoreSettings): Promise<StreamInfo> {
  return ensureStream(jsm, eventStreamConfig(store));
}

/** The index stream of the store (`JETBUS_INDEX` over `index.<stream>.>`), retention following the event stream. */
export function ensureIndexStream(jsm: JetStreamManager, store: StoreSettings): Promise<StreamInfo> {
  return ensureStream(jsm, indexStreamConfig(store));
}

/** Both streams the store needs, event stream first. */
export async function ensureStore(jsm: JetStreamManager, store: StoreSettings): Promise<{ events: StreamInfo; index: StreamInfo }> {
  const events = await ensureEventStream(jsm, store);
  const index = await ensureIndexStream(jsm, store);
  return { events, index };
}
