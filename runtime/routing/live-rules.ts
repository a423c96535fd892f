import type { NatsConnection } from "@nats-io/transport-node";
import type { JetbusConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { retryTransient } from "../nats/connect.ts";
import { isTransient } from "../nats/errors.ts";
import { ConfigStore, type StoredConfig } from "./config-store.ts";
import { compileRuleSet } from "./plan.ts";
import { STARTUP_RETRY } from "./router-startup.ts";
import type { RuleSet } from "./types.ts";

/** Told after the rule set switched to a newer stored revision; `from` is the revision routed with until then. */
export type OnRevision = (stored: StoredConfig, from: number) => void;

/**
 * The rule set a router replica routes with: the stored config's (seeded from the file on first
 * start), then each newer valid revision stored live. A switch swaps the whole compiled rule set:
 * the next event taken uses it, events in flight keep theirs.
 */
export class LiveRules {
  private watcher?: { stop(): void };

  private constructor(
    private readonly store: ConfigStore,
    private readonly logger: Logger,
    /** The config routed with at start-up. */
    readonly initial: StoredConfig,
    private rules: RuleSet,
  ) {}

  /** Opens the config bucket and compiles the config to start with. */
  static async load(nc: NatsConnection, config: JetbusConfig, logger: Logger): Promise<LiveRules> {
    const store = await ConfigStore.open(nc, { replicas: config.store.replicas });
    const initial = await initialConfig(store, config, logger);
    return new LiveRules(store, logger, initial, compileRuleSet(initial.config, initial.revision));
  }

  get current(): RuleSet {
    return this.rules;
  }

  /** Watches the stored config: each newer valid revision becomes the current rule set, then `onRevision` is told. */
  async follow(onRevision: OnRevision): Promise<void> {
    this.watcher = await retryTransient(
      () =>
        this.store.watch(
          (c) => {
            if (c.revision <= this.rules.revision) return;
            const from = this.rules.revision;
            this.rules = compileRuleSet(c.config, c.revision);
            onRevision(c, from);
          },
          (revision, err) =>
            this.logger.error({ revision, err: (err as Error).message }, "stored config revision is invalid; keeping the current rules"),
        ),
      STARTUP_RETRY,
    );
  }

  stop(): void {
    this.watcher?.stop();
  }
}

/** The stored config, seeded from the file on first start; the file's own if what is stored does not validate. */
async function initialConfig(store: ConfigStore, config: JetbusConfig, logger: Logger): Promise<StoredConfig> {
  try {
    return await retryTransient(async () => (await store.current()) ?? (await store.seed(config)), STARTUP_RETRY);
  } catch (err) {
    if (isTransient(err)) throw err;
    // a stored revision that does not validate (written by hand or an older jetbus): run the file's rules
    logger.error(
      { err: (err as Error).message },
      "stored config is invalid; routing with the file config (revision 0) until a valid revision is applied",
    );
    return { revision: 0, at: new Date(), config };
  }
}
