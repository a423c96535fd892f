import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom, parseConfigText } from "../config/load.ts";
import type { JetbusConfig } from "../config/types.ts";
import { NotFoundError } from "../errors.ts";
import { retryTransient } from "../nats/connect.ts";
import { isTransient } from "../nats/errors.ts";
import { Buckets, ConfigKeys } from "../topology.ts";

/** One stored revision of the config. */
export type StoredConfig = Readonly<{ revision: number; at: Date; config: JetbusConfig }>;

/** Revisions kept per key (the most JetStream KV allows): what `config history` and `rollback` can reach. */
export const CONFIG_HISTORY = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The stored form: everything but `nats` and the console token (server URLs and credentials are
 * per process and must not be readable by every KV reader); it gets its defaults back when read.
 */
function encode(config: JetbusConfig): Uint8Array {
  const { nats: _connection, ...shared } = config;
  // the console's admin token is a secret of this process, like the connection settings
  const { token: _token, ...console } = config.observability.console ?? {};
  return encoder.encode(JSON.stringify({ ...shared, observability: { ...config.observability, console } }));
}

function toStored(e: KvEntry): StoredConfig {
  // validated again on read: a revision written by an older jetbus (or by hand) gets defaults and checks too
  // a value put by hand (`nats kv put`) may not even be JSON: a ConfigError then, not a SyntaxError
  const source = `${Buckets.Config} revision ${e.revision}`;
  const config = configFrom(parseConfigText(decoder.decode(e.value), source), source);
  return { revision: e.revision, at: e.created, config };
}

/**
 * The live config in KV `jetbus-config`, key `routes`. Nothing is stored unless it passed the
 * whole validation (schema + semantic checks) first, so a running router never sees an invalid
 * revision written by jetbus.
 */
export class ConfigStore {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, opts: { replicas?: number } = {}): Promise<ConfigStore> {
    const kvm = new Kvm(jetstream(nc));
    const kv = await retryTransient(async () => {
      try {
        return await kvm.create(Buckets.Config, { history: CONFIG_HISTORY, replicas: opts.replicas ?? 1 });
      } catch (err) {
        if (isTransient(err)) throw err;
        // exists with other settings (replicas, history), or this user may only read it: use it as it is
        return kvm.open(Buckets.Config, { bindOnly: true });
      }
    });
    return new ConfigStore(kv);
  }

  /** The current revision, or null when nothing was applied yet. */
  async current(): Promise<StoredConfig | null> {
    const e = await this.kv.get(ConfigKeys.Routes);
    if (!e || e.operation !== "PUT") return null;
    return toStored(e);
  }

  /** Validates then stores; throws ConfigError (nothing stored) when invalid. */
  async apply(doc: unknown, source = "(inline)"): Promise<StoredConfig> {
    const config = configFrom(doc, source);
    const revision = await this.kv.put(ConfigKeys.Routes, encode(config));
    return { revision, at: new Date(), config };
  }

  /** Stores `config` only if the key holds nothing yet (first router seeds from its file); returns what is stored. */
  async seed(config: JetbusConfig): Promise<StoredConfig> {
    try {
      const revision = await this.kv.create(ConfigKeys.Routes, encode(config));
      return { revision, at: new Date(), config };
    } catch (err) {
      const now = await this.current();
      if (now) return now;
      throw err;
    }
  }

  /** Every kept revision, oldest first. */
  async history(): Promise<StoredConfig[]> {
    const out: StoredConfig[] = [];
    const iter = await this.kv.history({ key: ConfigKeys.Routes });
    for await (const e of iter) {
      if (e.operation !== "PUT") continue;
      out.push(toStored(e));
    }
    return out;
  }

  /** Stores revision `rev`'s config again as a new revision (history is never rewritten). */
  async rollback(rev: number): Promise<StoredConfig> {
    const e = await this.kv.get(ConfigKeys.Routes, { revision: rev });
    if (!e || e.operation !== "PUT" || e.key !== ConfigKeys.Routes)
      throw new NotFoundError(`config revision ${rev} not found in KV ${Buckets.Config} (run \`jetbus config history\`)`);
    return this.apply(JSON.parse(decoder.decode(e.value)), `${Buckets.Config} revision ${rev}`);
  }

  /**
   * Calls `onChange` for the current value and every later revision, in order. A revision that
   * does not validate is reported through `onInvalid` and skipped.
   */
  async watch(onChange: (c: StoredConfig) => void, onInvalid: (revision: number, err: unknown) => void): Promise<{ stop(): void }> {
    const iter = await this.kv.watch({ key: ConfigKeys.Routes });
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== "PUT") continue;
        let stored: StoredConfig;
        try {
          stored = toStored(e);
        } catch (err) {
          onInvalid(e.revision, err);
          continue;
        }
        onChange(stored);
      }
    })();
    return { stop: () => iter.stop() };
  }
}
