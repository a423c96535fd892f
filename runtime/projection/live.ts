import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";
import { Heartbeat, newReplicaId, presenceKey } from "../presence/heartbeat.ts";
import type { EventSchemas } from "../store/schemas.ts";
import { ReadModel } from "./model.ts";
import type { LoadedProjection } from "./module.ts";
import type { ProjectionRecord, ProjectionRegistry } from "./registry.ts";
import { ProjectionRunner, type RunnerProgress } from "./runner.ts";

export type LiveProjectionOptions = Readonly<{
  nc: NatsConnection;
  stream: string;
  replicas: number;
  loaded: LoadedProjection;
  registry: ProjectionRegistry;
  schemas: EventSchemas;
  logger: Logger;
  /** The presence bucket: without it no heartbeat (status and the console then know the position key only). */
  presence?: () => Promise<KV>;
  replica?: string;
}>;

/**
 * One projection kept live in this process: a runner on the version readers use (KV
 * jetbus-projections), created at version 1 when the projection first runs. It watches that
 * record and moves to the new version when a rebuild switches readers over: the runner of the old
 * version stops after its batch, one on the new version starts from the position the rebuild
 * left (any overlap with the rebuild's own runner is harmless: both write through the same guards).
 * Heartbeats `projection.<name>.<replica>` with its progress for `projection status` and the console.
 */
export class LiveProjection {
  readonly replica: string;
  private runner?: ProjectionRunner;
  private switching: Promise<void> = Promise.resolve();
  private watcher?: { stop(): void };
  private heartbeat?: Heartbeat;
  private stopped = false;

  constructor(private readonly o: LiveProjectionOptions) {
    this.replica = o.replica ?? newReplicaId();
  }

  get name(): string {
    return this.o.loaded.settings.name;
  }

  get progress(): RunnerProgress | undefined {
    return this.runner?.progress;
  }

  /** The runner on the version readers use now (tests wait on it). */
  get current(): ProjectionRunner | undefined {
    return this.runner;
  }

  async start(): Promise<void> {
    const { definition, filters } = this.o.loaded;
    const record = await this.o.registry.ensure(this.name, definition.events, filters);
    if (record.filters.join(",") !== filters.join(","))
      this.o.logger.warn(
        { projection: this.name, built: record.events, now: definition.events },
        "the projection's event types changed since its read model was built: rebuild it (jetbus projection rebuild)",
      );
    await this.follow(record);
    // a failed switch is logged (follow) and tried again with the record's next change or a restart
    this.watcher = await this.o.registry.watch(this.name, (r) => void this.follow(r).catch(() => undefined));
    if (this.o.presence) {
      const bucket = this.o.presence;
      this.heartbeat = new Heartbeat(
        bucket,
        presenceKey("projection", this.name, this.replica),
        () => ({ role: "projection", name: this.name, replica: this.replica, inFlight: 0, projection: this.runner?.progress }),
        this.o.logger,
      );
      await this.heartbeat.start();
    }
  }

  /** Moves to `record.version` unless already there; switches run one after the other. */
  private follow(record: ProjectionRecord): Promise<void> {
    const run = this.switching.then(async () => {
      if (this.stopped || this.runner?.version === record.version) return;
      const from = this.runner?.version;
      await this.runner?.stop();
      const model = await ReadModel.open(this.o.nc, this.name, record.version, { replicas: this.o.replicas });
      this.runner = new ProjectionRunner({
        nc: this.o.nc,
        stream: this.o.stream,
        filters: this.o.loaded.filters,
        definition: this.o.loaded.definition,
        model,
        schemas: this.o.schemas,
        logger: this.o.logger,
      });
      await this.runner.start();
      this.o.logger.info(
        { projection: this.name, version: record.version, from },
        from ? "projection switched version" : "projection running",
      );
      await this.heartbeat?.beat();
    });
    this.switching = run.catch((err: unknown) =>
      this.o.logger.error({ projection: this.name, err: (err as Error)?.message }, "projection could not switch version"),
    );
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    await this.switching;
    await this.runner?.stop();
    await this.heartbeat?.stop();
  }
}
