import type { ActorSettings, JetbusConfig } from "../../config/types.ts";
import { ConfigError, HandlerInvalidError, type Problem } from "../../errors.ts";
import { isStatefulDefinition } from "../define.ts";
import { handlerSourceFor } from "../module-loader.ts";
import type { HandlerSource } from "../registry.ts";

/** `ordered.partitions` when the config gives none: the schema's default (schemas/actor.schema.json, checked by a unit test). */
export const DEFAULT_PARTITIONS = 8;

/**
 * A stateful actor is ordered on its state key unless its config says otherwise: its events of one
 * key must be handled one at a time across every replica (one partition's durable has
 * max_ack_pending 1), or handlings of one key keep losing their commits to each other. An actor
 * whose config names `ordered` keeps it (its partition count; a different key is a problem).
 */
export function withStateOrdering(settings: ActorSettings, source: HandlerSource | undefined): ActorSettings {
  if (!isStatefulDefinition(source) || settings.ordered) return settings;
  return { ...settings, ordered: { key: source.state.key, partitions: DEFAULT_PARTITIONS } };
}

/** What a stateful handler rules out in its actor's config, each with its JSON path. */
export function stateOrderingProblems(index: number, settings: ActorSettings, source: HandlerSource | undefined): Problem[] {
  if (!isStatefulDefinition(source)) return [];
  const key = source.state.key;
  if (settings.ordered && settings.ordered.key !== key)
    return [
      {
        path: `actors[${index}].ordered.key`,
        message: `is "${settings.ordered.key}" but the actor keeps state by key "${key}": set "${key}", or leave "ordered" out (a stateful actor is ordered on its state key by default)`,
      },
    ];
  // an explicit `ordered` with direct delivery is reported by the direct checks already
  if (!settings.ordered && settings.delivery === "direct")
    return [
      {
        path: `actors[${index}].delivery`,
        message: `a stateful actor is ordered on its state key "${key}", which delivery "direct" cannot keep (no inbox partitions); use delivery "copy"`,
      },
    ];
  return [];
}

export type ActorModules = "strict" | "lenient";

export type ResolveOptions = Readonly<{
  /**
   * strict (`up`): a module that does not load or a stateful actor whose config contradicts its state
   * key stops the start (HandlerInvalidError, ConfigError). lenient (routers, `config apply`):
   * such an actor keeps its settings as written and `onSkipped` is told why.
   */
  mode: ActorModules;
  /** Where the config came from, for a ConfigError. */
  source?: string;
  onSkipped?: (actor: string, reason: string) => void;
  /** Load the modules under this version (`up --watch` after an edit, see LoadOptions). */
  version?: number;
}>;

/**
 * The config with every stateful actor ordered on its state key (withStateOrdering), read from
 * the actors' modules. Routers need it too: they publish an ordered actor's copies to its
 * partitions, through the ordered lane. An actor without a module is looked up among the
 * registered handlers; one not registered (yet) keeps its settings.
 */
export async function resolveStateOrdering(config: JetbusConfig, projectDir: string, opts: ResolveOptions): Promise<JetbusConfig> {
  const actors: ActorSettings[] = [];
  const problems: Problem[] = [];
  for (const [i, settings] of config.actors.entries()) {
    let source: HandlerSource;
    try {
      source = await handlerSourceFor(settings, projectDir, { version: opts.version });
    } catch (err) {
      if (!(err instanceof HandlerInvalidError)) throw err;
      if (opts.mode === "strict" && settings.module !== undefined) throw err;
      if (settings.module !== undefined) opts.onSkipped?.(settings.name, err.message);
      actors.push(settings);
      continue;
    }
    const found = stateOrderingProblems(i, settings, source);
    if (found.length > 0 && opts.mode === "lenient") {
      opts.onSkipped?.(settings.name, found.map((p) => `${p.path} ${p.message}`).join("; "));
      actors.push(settings);
      continue;
    }
    problems.push(...found);
    actors.push(withStateOrdering(settings, source));
  }
  if (problems.length > 0) throw new ConfigError(opts.source ?? "(inline)", problems);
  return { ...config, actors };
}
