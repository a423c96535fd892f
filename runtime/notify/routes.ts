import type { JetbusConfig } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import { parsePattern, patternCovers, PatternKind, type Pattern } from "../events/type-pattern.ts";
import { compileRule } from "../routing/plan.ts";
import type { CompiledRule } from "../routing/types.ts";
import { Subjects } from "../topology.ts";

type RoutesConfig = Pick<JetbusConfig, "actors" | "routes">;

/** The rule that selects a notification for one actor (its name, its transform), or undefined. */
export type NotificationPlan = (event: Event) => CompiledRule | undefined;

/** Type-match results per event type; bounded, as the router's. */
const TYPE_CACHE_LIMIT = 10_000;

/**
 * The routing rules of one actor, applied in the actor's own process to each notification it
 * receives (there is no router hop for notifications: see README "Notifications"). Same rule
 * semantics as the router's (routing/plan.ts): in all-matches mode only the rules naming this
 * actor can select it, and the first matching one shapes its copy (its transform and rule name);
 * in first-match mode the first matching rule of all decides, so an earlier rule naming other
 * actors takes the event away. Compiled with the router's compileRule; the candidates of each
 * type are found once, and no copy object is made per event.
 */
export function notificationPlanOf(actor: string, config: RoutesConfig): NotificationPlan {
  const { mode, rules } = config.routes;
  const compiled = rules.map(compileRule).filter((r) => mode === "first-match" || r.targets.includes(actor));
  const byType = new Map<string, readonly CompiledRule[]>();
  return (event) => {
    let candidates = byType.get(event.type);
    if (!candidates) {
      if (byType.size >= TYPE_CACHE_LIMIT) byType.clear();
      candidates = compiled.filter((r) => r.matchesType(event.type));
      byType.set(event.type, candidates);
    }
    for (const rule of candidates) {
      if (!rule.matchesRest(event)) continue;
      return rule.targets.includes(actor) ? rule : undefined;
    }
    return undefined;
  };
}

/** The event as the rule hands it to the actor: its data transformed when the rule has a transform. */
export function routedEvent(rule: CompiledRule, event: Event): Event {
  return rule.transform ? { ...event, data: rule.transform(event.data) } : event;
}

/**
 * The subjects an actor's notification subscriptions listen on: `notify.<type pattern>` of each
 * rule naming it, whatever the config declares notifications (a publisher may send any type as
 * one: `bus.notify`, `jetbus pub --notify`, `nats pub notify.<type>`). A rule without a type, or
 * with a prefix glob no subject expresses (`User*`), listens on `notify.>` and leaves the choice
 * to the rules. Patterns another one covers are left out; the rest may still overlap, which is
 * harmless: every subscription of an actor is in its one queue group, and the server delivers a
 * message once per queue group whatever number of its subscriptions match.
 */
export function notificationSubjectsOf(actor: string, config: RoutesConfig): string[] {
  const patterns: Pattern[] = [];
  for (const rule of config.routes.rules) {
    if (!rule.to.includes(actor)) continue;
    const p = parsePattern(rule.match.type ?? ">");
    patterns.push(p.kind === PatternKind.Prefix ? parsePattern(">") : p);
  }
  const kept = patterns.filter((p, i) => !patterns.some((q, j) => j !== i && patternCovers(q, p) && (!patternCovers(p, q) || j < i)));
  return [...new Set(kept.map((p) => Subjects.notify(p.kind === PatternKind.Any ? ">" : p.text)))];
}
