import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { NotFoundError } from "../errors.ts";
import { orMissing } from "../nats/missing.ts";
import { Buckets } from "../topology.ts";
import { ReadModel, type ModelEntry } from "./model.ts";
import { ProjectionRegistry } from "./registry.ts";

/** One key of a projection as readers see it: its state, and the store sequence and id of the last event applied to it. */
export type ProjectionEntry<TState = unknown> = Readonly<{ key: string; value: TState; seq: number; eventId?: string; time?: Date }>;

export type ProjectionReaderOptions = Readonly<{
  /** Move to the new version when a rebuild switches readers over (default true; a one-shot read needs no watch). */
  follow?: boolean;
  /** Read this version instead of the one readers use (no following). */
  version?: number;
}>;

/**
 * Reads a projection's read model from code: `get(key)` and `list()` on the version readers use
 * (KV jetbus-projections), following a rebuild's switch to a new version. A read model is
 * eventually consistent with the store: an event is in it once the projection's runner applied
 * it (`position()` says up to which store sequence every event is).
 *
 *   const balances = await ProjectionReader.open<{ balance: number }>(nc, "balances");
 *   (await balances.get("acct-1"))?.value.balance;
 */
export class ProjectionReader<TState = unknown> {
  private watcher?: { stop(): void };

  private constructor(
    readonly name: string,
    private model: ReadModel,
  ) {}

  static async open<TState = unknown>(
    nc: NatsConnection,
    name: string,
    opts: ProjectionReaderOptions = {},
  ): Promise<ProjectionReader<TState>> {
    let version = opts.version;
    let registry: ProjectionRegistry | undefined;
    if (version === undefined) {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      if (!(await orMissing(() => jsm.streams.info(`KV_${Buckets.Projections}`))))
        throw new NotFoundError(`projection "${name}" has not run yet: no projection has (KV ${Buckets.Projections} does not exist)`);
      registry = await ProjectionRegistry.bind(nc);
      version = (await registry.require(name)).version;
    }
    const reader = new ProjectionReader<TState>(name, await ReadModel.bind(nc, name, version));
    if (registry && opts.follow !== false) {
      reader.watcher = await registry.watch(name, (r) => {
        if (r.version === reader.model.version) return;
        void ReadModel.bind(nc, name, r.version).then(
          (m) => (reader.model = m),
          () => undefined,
        );
      });
    }
    return reader;
  }

  /** The version read now. */
  get version(): number {
    return this.model.version;
  }

  /** A key's entry; undefined when the key holds no state (never had an event, or evolve deleted it). */
  async get(key: string): Promise<ProjectionEntry<TState> | undefined> {
    const e = await this.model.read(key);
    return e.exists ? toEntry<TState>(e) : undefined;
  }

  /** Every key that holds a state, sorted by key (one ordered consumer over the bucket). */
  async list(): Promise<Array<ProjectionEntry<TState>>> {
    return (await this.model.list()).map((e) => toEntry<TState>(e));
  }

  /** Every chosen event up to this store sequence is in the read model (as its runners last recorded, at most a second ago). */
  position(): Promise<number> {
    return this.model.position();
  }

  /** Stops following the version. */
  close(): void {
    this.watcher?.stop();
  }
}

function toEntry<TState>(e: ModelEntry): ProjectionEntry<TState> {
  return {
    key: e.key,
    value: e.value as TState,
    seq: e.seq,
    ...(e.eventId ? { eventId: e.eventId } : {}),
    ...(e.time ? { time: e.time } : {}),
  };
}
