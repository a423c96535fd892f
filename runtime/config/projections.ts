import type { JetbusConfig } from "./types.ts";
import type { Problem } from "../errors.ts";

/** Problems of `projections[]` the schema cannot see: a name used twice (config validation). */
export function projectionProblems(config: Pick<JetbusConfig, "projections">): Problem[] {
  const problems: Problem[] = [];
  const first = new Map<string, number>();
  // also run on documents the schema refused (config/validate.ts): the list may be malformed there
  if (!Array.isArray(config.projections)) return problems;
  config.projections.forEach((p, i) => {
    const seen = first.get(p.name);
    if (seen !== undefined)
      problems.push({ path: `projections[${i}].name`, message: `duplicate projection name "${p.name}" (also projections[${seen}])` });
    else first.set(p.name, i);
  });
  return problems;
}
