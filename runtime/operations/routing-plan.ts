import type { JetbusConfig } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import { compileRuleSet } from "../routing/plan.ts";
import type { StoredEvent } from "./types.ts";

/** Which actors the current rules send an event to: trace's "not handled yet" lines. */
export function routedActorsOf(config: JetbusConfig, revision: number): (e: StoredEvent) => readonly string[] {
  const rules = compileRuleSet(config, revision);
  return (e) => [...new Set(rules.plan(e.event).map((c) => c.actor))];
}

/**
 * The copy the current rules give `actor` for an event (transformed, with its inbox subject),
 * or null when they do not route it there. The router's own pure plan decides, so a replay
 * delivers exactly what live routing would.
 */
export function routeCopyFor(
  config: JetbusConfig,
  actor: string,
  revision: number,
): (e: Event) => { event: Event; rule: string; subject: string } | null {
  const rules = compileRuleSet(config, revision);
  return (e) => {
    const copy = rules.plan(e).find((c) => c.actor === actor);
    return copy ? { event: copy.event, rule: copy.rule, subject: copy.subject } : null;
  };
}
