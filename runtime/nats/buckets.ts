import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV, type KvOptions } from "@nats-io/kv";
import { retryTransient } from "./connect.ts";
import { isAlreadyExists } from "./errors.ts";

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
      if (isAlreadyExists(err)) return kvm.open(name);
      throw err;
    }
  });
}
