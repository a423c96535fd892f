import type { JetbusConfig } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import { parsePattern, patternCovers, PatternKind, type Pattern } from "../routing/match.ts";
import { compileRuleSet } from "../routing/plan.ts";
import { Subjects } from "../topology.ts";

type RoutesConfig = Pick<JetbusConfig, "actors" | "routes">;

/** What one actor makes of a notification: the event as its rule shapes it (transform) and the rule's name, or nothing. */
export type NotificationPlan = (event: Event) => Readonly<{ event: Event; rule: string }> | undefined;

/**
 * The routing rules of one actor, applied in the actor's own process to each notification it
 * receives (there is no router hop for notifications: see README "Notifications"). Same rule
 * semantics as the router's: in all-matches mode only the rules naming this actor can select it,
 * and the first matching one shapes its copy; in first-match mode an earlier rule naming other
 * actors can take the event away, so every rule is evaluated, as the router does.
 */
export function notificationPlanOf(actor: string, config: RoutesConfig): NotificationPlan {
  const { mode, rules } = config.routes;
  const mine =
    mode === "first-match"
      ? rules
      : rules.flatMap((r, index) => (r.to.includes(actor) ? [{ ...r, name: r.name ?? `rules[${index}]`, to: [actor] }] : []));
  const set = compileRuleSet({ routes: { mode, rules: mine }, actors: config.actors }, 0);
  return (event) => {
    const copies = set.plan(event);
    for (const c of copies) if (c.actor === actor) return { event: c.event, rule: c.rule };
    return undefined;
  };
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
