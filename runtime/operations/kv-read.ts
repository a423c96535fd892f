import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { orMissing } from "../nats/missing.ts";

/** The stream behind a KV bucket and the subject of one key (the KV layout is part of the NATS spec). */
export const kvStream = (bucket: string) => `KV_${bucket}`;
export const kvSubject = (bucket: string, key: string) => `$KV.${bucket}.${key}`;

export type KvEntryFact = Readonly<{ key: string; value: Uint8Array; revision: number; at: Date }>;

function isDeleted(op: string | undefined): boolean {
  return op === "DEL" || op === "PURGE";
}

/**
 * The current entries of a bucket whose keys match `keyFilter`, without creating anything; null
 * when the bucket does not exist. The server lists the keys (subjects_filter), then each key's
 * newest entry is one direct get. A last-per-subject consumer read was cut short when keys were
 * rewritten during the read (presence heartbeats every 2 s): status and the console missed live
 * replicas (test/integration/kv-read-rewrites.int.test.ts).
 */
export async function readKvEntries(
  _nc: NatsConnection,
  jsm: JetStreamManager,
  bucket: string,
  keyFilter = ">",
): Promise<KvEntryFact[] | null> {
  return (await readKvBucket(jsm, bucket, keyFilter))?.entries ?? null;
}

/** readKvEntries, with the stream info the keys were listed from (its replica group, for status). */
export async function readKvBucket(
  jsm: JetStreamManager,
  bucket: string,
  keyFilter = ">",
): Promise<{ info: StreamInfo; entries: KvEntryFact[] } | null> {
  const prefix = `$KV.${bucket}.`;
  const info = await orMissing(() => jsm.streams.info(kvStream(bucket), { subjects_filter: prefix + keyFilter }));
  if (!info) return null;
  const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
  const entries = await Promise.all(keys.map((key) => readKvEntry(jsm, bucket, key)));
  return { info, entries: entries.filter((e): e is KvEntryFact => e !== null) };
}

/** One key's current entry, or null when the bucket or the key does not exist (or it was deleted). */
export async function readKvEntry(jsm: JetStreamManager, bucket: string, key: string): Promise<KvEntryFact | null> {
  const m = await orMissing(() => jsm.streams.getMessage(kvStream(bucket), { last_by_subj: kvSubject(bucket, key) }));
  if (!m || isDeleted(m.header?.get("KV-Operation"))) return null;
  return { key, value: m.data, revision: m.seq, at: m.time };
}

export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}
