import type { ActorSettings } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import { Subjects } from "../topology.ts";
import { compileFilter } from "../config/routes/filter.ts";
import { inboxSubjectFor } from "../actor/ordering.ts";
import { ruleName } from "../config/routes/check.ts";
import { compilePattern, parsePattern } from "../events/type-pattern.ts";
import { compileTransform } from "../config/routes/transform.ts";
import type { CompiledRule, Predicate, RouteCopy, RoutingConfig, RuleSet } from "./types.ts";

/** Type-match results per event type; bounded so a flood of distinct types cannot grow it forever. */
const TYPE_CACHE_LIMIT = 10_000;

/** Compiles one rule (the config is already checked, so every pattern and regex compiles). */
export function compileRule(rule: RoutingConfig["routes"]["rules"][number], index: number): CompiledRule {
  const typeTest = rule.match.type === undefined ? () => true : compilePattern(parsePattern(rule.match.type));
  const sourceTest = rule.match.source === undefined ? undefined : compilePattern(parsePattern(rule.match.source));
  const dataTest = rule.match.data === undefined ? undefined : compileFilter(rule.match.data);
  let rest: Predicate<Event>;
  if (sourceTest && dataTest) rest = (e) => sourceTest(e.source) && dataTest(e.data);
  else if (sourceTest) rest = (e) => sourceTest(e.source);
  else if (dataTest) rest = (e) => dataTest(e.data);
  else rest = () => true;
  return {
    index,
    name: ruleName(rule, index),
    matchesType: typeTest,
    matchesRest: rest,
    targets: rule.to,
    ...(rule.transform ? { transform: compileTransform(rule.transform) } : {}),
  };
}

/**
 * Compiles every rule of one config revision into a RuleSet. `plan(event)` is pure:
 * - all-matches (default): every matching rule contributes its targets; each actor gets one
 *   copy, shaped by the FIRST matching rule that names it (its transform, its rule name).
 * - first-match: only the first matching rule's targets.
 */
export function compileRuleSet(config: RoutingConfig, revision: number): RuleSet {
  const rules = config.routes.rules.map(compileRule);
  const mode = config.routes.mode;
  const actors = new Map<string, Pick<ActorSettings, "name" | "ordered" | "delivery">>(config.actors.map((a) => [a.name, a]));
  const byType = new Map<string, readonly CompiledRule[]>();
  const candidatesFor = (type: string): readonly CompiledRule[] => {
    let c = byType.get(type);
    if (!c) {
      if (byType.size >= TYPE_CACHE_LIMIT) byType.clear();
      c = rules.filter((r) => r.matchesType(type));
      byType.set(type, c);
    }
    return c;
  };
  // Each target actor's settings, looked up once per revision rather than three times per copy; an
  // unordered actor's inbox subject does not depend on the event, so it is built once here too.
  type Target = Readonly<{ settings: Pick<ActorSettings, "name" | "ordered">; subject?: string; ordered: boolean; direct: boolean }>;
  const targets = new Map<string, Target>();
  const targetOf = (actor: string): Target => {
    let t = targets.get(actor);
    if (!t) {
      const found = actors.get(actor);
      const settings = found ?? { name: actor };
      const ordered = found?.ordered !== undefined;
      const direct = found?.delivery === "direct";
      t = ordered ? { settings, ordered, direct } : { settings, ordered, direct, subject: Subjects.inbox(actor, 0) };
      targets.set(actor, t);
    }
    return t;
  };
  const copyFor = (event: Event, actor: string, rule: CompiledRule, data: unknown): RouteCopy => {
    const t = targetOf(actor);
    return {
      actor,
      rule: rule.name,
      subject: t.subject ?? inboxSubjectFor(t.settings, event),
      ordered: t.ordered,
      direct: t.direct,
      event: rule.transform ? { ...event, data } : event,
    };
  };
  const plan = (event: Event): RouteCopy[] => {
    const copies: RouteCopy[] = [];
    const candidates = candidatesFor(event.type);
    if (mode === "first-match") {
      for (const rule of candidates) {
        if (!rule.matchesRest(event)) continue;
        const data = rule.transform ? rule.transform(event.data) : event.data;
        for (const actor of rule.targets) copies.push(copyFor(event, actor, rule, data));
        break;
      }
      return copies;
    }
    let seen: Set<string> | undefined;
    for (const rule of candidates) {
      if (!rule.matchesRest(event)) continue;
      let data: unknown;
      let transformed = false;
      for (const actor of rule.targets) {
        if (copies.length > 0) {
          seen ??= new Set(copies.map((c) => c.actor));
          if (seen.has(actor)) continue;
          seen.add(actor);
        }
        if (rule.transform && !transformed) {
          data = rule.transform(event.data);
          transformed = true;
        }
        copies.push(copyFor(event, actor, rule, data));
      }
    }
    return copies;
  };
  return { revision, mode, rules, plan };
}
