import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import { UnknownActorError } from "../errors.ts";
import { inboxSubjectFor } from "../actor/ordering.ts";
import type { ReplayTarget } from "./replay.ts";
import { routeCopyFor } from "./routing-plan.ts";

export function actorSettings(config: JetbusConfig, name: string): ActorSettings {
  const actor = config.actors.find((a) => a.name === name);
  if (!actor)
    throw new UnknownActorError(
      name,
      config.actors.map((a) => a.name),
    );
  return actor;
}

/**
 * The replay target for one configured actor: the current rules decide which events it gets
 * (and how they are transformed), or, with `all`, every event as stored.
 */
export function replayTargetFor(config: JetbusConfig, name: string, opts: { all?: boolean; revision?: number } = {}): ReplayTarget {
  const actor = actorSettings(config, name);
  return {
    actor: name,
    select: opts.all ? (event) => ({ event }) : routeCopyFor(config, name, opts.revision ?? 0),
    subjectFor: (event) => inboxSubjectFor(actor, event),
  };
}
