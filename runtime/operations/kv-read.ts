import { DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { orMissing } from "../nats/missing.ts";
import { readStream } from "./read-stream.ts";

/** The stream behind a KV bucket and the subject of one key (the KV layout is part of the NATS spec). */
export const kvStream = (bucket: string) => `KV_${bucket}`;
export const kvSubject = (bucket: string, key: string) => `$KV.${bucket}.${key}`;

export type KvEntryFact = Readonly<{ key: string; value: Uint8Array; revision: number; at: Date }>;

function isDeleted(op: string | undefined): boolean {
  return op === "DEL" || op === "PURGE";
}

/**
 * The current entries of a bucket whose keys match `keyFilter`, read straight from its stream
 * (last message per subject) without creating anything; null when the bucket does not exist.
 */
export async function readKvEntries(nc: NatsConnection, jsm: JetStreamManager, bucket: string, keyFilter = ">"): Promise<KvEntryFact[] | null> {
  const prefix = `$KV.${bucket}.`;
  const entries: KvEntryFact[] = [];
  const found = await orMissing(() =>
    readStream(nc, jsm, kvStream(bucket), { filter: prefix + keyFilter, deliver_policy: DeliverPolicy.LastPerSubject, untilSeq: Number.POSITIVE_INFINITY }, (m) => {
      if (isDeleted(m.headers?.get("KV-Operation"))) return;
      entries.push({ key: m.subject.slice(prefix.length), value: m.data, revision: m.seq, at: m.time });
    }).then(() => true),
  );
  return found ? entries : null;
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
