import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV, type KvOptions } from "@nats-io/kv";
import { retryTransient } from "./connect.ts";

/**
 * Opens a KV bucket, creating it when missing. When the bucket already exists with other
 * settings (another version of jetbus, a hand-made bucket) it is used as it is.
 */
export async function ensureBucket(nc: NatsConnection, name: string, opts: Partial<KvOptions>): Promise<KV> {
  const kvm = new Kvm(nc);
  return retryTransient(async () => {
    try {
      return await kvm.create(name, opts);
    } catch (err) {
      if (/already in use|already exists/i.test((err as Error).message)) return kvm.open(name);
      throw err;
    }
  });
}
