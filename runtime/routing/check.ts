import type { Problem } from "../errors.ts";
import type { JetbusConfig } from "../config/types.ts";

/** Semantic checks of `routes` that a schema cannot express. */
export function checkRoutes(config: JetbusConfig): Problem[] {
  const actors = new Set(config.actors.map((a) => a.name));
  const problems: Problem[] = [];
  config.routes.rules.forEach((rule, i) => {
    rule.to.forEach((target, j) => {
      if (!actors.has(target)) problems.push({ path: `routes.rules[${i}].to[${j}]`, message: `unknown actor "${target}" (not in actors[])` });
    });
  });
  return problems;
}
