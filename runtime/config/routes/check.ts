import type { Problem } from "../../errors.ts";
import type { JetbusConfig, RouteRule } from "../types.ts";
import { checkFilter } from "./filter.ts";
import { PatternError, parsePattern, patternCovers, type Pattern } from "../../events/type-pattern.ts";
import { jsonEqual } from "./path.ts";
import { checkTransform } from "./transform.ts";
import { didYouMean } from "../../suggest.ts";

/** The name a rule is known by in problems, plans and traces: its `name`, else `rules[<index>]`. */
export function ruleName(rule: { name?: string }, index: number): string {
  return rule.name ?? `rules[${index}]`;
}

type ParsedMatch = { type?: Pattern; source?: Pattern; ok: boolean };

function parseField(rule: RouteRule, field: "type" | "source", at: string, problems: Problem[]): Pattern | undefined {
  const text = rule.match[field];
  if (text === undefined) return undefined;
  try {
    return parsePattern(text);
  } catch (err) {
    if (!(err instanceof PatternError)) throw err;
    problems.push({ path: `${at}.match.${field}`, message: `invalid pattern: ${err.message}` });
    return undefined;
  }
}

/**
 * Does `earlier` match every event `later` matches? Then, in first-match mode, `later` can never
 * be chosen. Data filters are compared structurally only (an earlier rule with no data filter, or
 * the very same one), so a reported rule is certainly unreachable.
 */
function shadows(earlier: RouteRule, e: ParsedMatch, later: RouteRule, l: ParsedMatch): boolean {
  if (!e.ok || !l.ok) return false;
  if (!patternCovers(e.type, l.type)) return false;
  if (!patternCovers(e.source, l.source)) return false;
  if (earlier.match.data === undefined) return true;
  return later.match.data !== undefined && jsonEqual(earlier.match.data, later.match.data);
}

/** Semantic checks of `routes` that a schema cannot express; each problem names its JSON path. */
export function checkRoutes(config: JetbusConfig): Problem[] {
  const actors = new Set(config.actors.map((a) => a.name));
  const problems: Problem[] = [];
  const parsed: ParsedMatch[] = [];
  const names = new Map<string, number>();
  config.routes.rules.forEach((rule, i) => {
    const at = `routes.rules[${i}]`;
    rule.to.forEach((target, j) => {
      if (!actors.has(target))
        problems.push({ path: `${at}.to[${j}]`, message: `unknown actor "${target}" (not in actors[])${didYouMean(target, actors)}` });
    });
    if (rule.name !== undefined) {
      const seen = names.get(rule.name);
      if (seen !== undefined)
        problems.push({ path: `${at}.name`, message: `duplicate rule name "${rule.name}" (also routes.rules[${seen}])` });
      else names.set(rule.name, i);
    }
    const before = problems.length;
    const type = parseField(rule, "type", at, problems);
    const source = parseField(rule, "source", at, problems);
    parsed.push({ type, source, ok: problems.length === before });
    if (rule.match.data) problems.push(...checkFilter(rule.match.data, `${at}.match.data`));
    if (rule.transform) problems.push(...checkTransform(rule.transform, `${at}.transform`));
  });
  if (config.routes.mode === "first-match") {
    const rules = config.routes.rules;
    rules.forEach((later, j) => {
      for (let i = 0; i < j; i++) {
        if (shadows(rules[i]!, parsed[i]!, later, parsed[j]!)) {
          problems.push({
            path: `routes.rules[${j}]`,
            message: `can never match in first-match mode: earlier rule ${ruleName(rules[i]!, i)} (routes.rules[${i}]) matches every event this one matches`,
          });
          break;
        }
      }
    });
  }
  return problems;
}
