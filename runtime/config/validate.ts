import type { ErrorObject } from "ajv/dist/2020.js";
import type { Problem } from "../errors.ts";
import { directProblems } from "./direct.ts";
import { checkRoutes } from "./routes/check.ts";
import { notificationProblems } from "./notifications.ts";
import { projectionProblems } from "./projections.ts";
import { DURATION_FORMS } from "./duration.ts";
import { depthProblem, durationProblems } from "./limits.ts";
import type { JetbusConfig } from "./types.ts";
import { didYouMean } from "../suggest.ts";
import { configValidator } from "./config-validator.ts";

export { createAjv } from "./ajv.ts";
export { DURATION_KEYWORD, SCHEMA_DIR } from "./config-validator.ts";

/** `/actors/1/retry/max_attempts` becomes `actors[1].retry.max_attempts`. */
export function jsonPath(pointer: string, extra?: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}

function describe(e: ErrorObject): Problem {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return {
        path: jsonPath(e.instancePath, String(p.additionalProperty)),
        message: `unknown key (not allowed here)${didYouMean(String(p.additionalProperty), known)}`,
      };
    }
    case "required":
      return { path: jsonPath(e.instancePath, String(p.missingProperty)), message: "is required" };
    case "enum":
      return {
        path: jsonPath(e.instancePath),
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      };
    case "anyOf":
      return {
        path: jsonPath(e.instancePath),
        message: e.schemaPath.includes("duration") ? `must be a duration: ${DURATION_FORMS}` : "does not match any allowed form",
      };
    case "dependentRequired":
      return { path: jsonPath(e.instancePath, String(p.missingProperty)), message: `is required when ${String(p.property)} is set` };
    case "minProperties":
    case "maxProperties":
      if (e.schemaPath.includes("filter"))
        return {
          path: jsonPath(e.instancePath),
          message: "a filter has exactly one operator (eq, ne, in, exists, gt, gte, lt, lte, prefix, suffix, regex, all, any, not)",
        };
      return { path: jsonPath(e.instancePath), message: e.message ?? "invalid" };
    default:
      return { path: jsonPath(e.instancePath), message: e.message ?? "invalid" };
  }
}

/** Drops the errors raised inside an anyOf branch when the anyOf itself is reported. */
function schemaProblems(errors: readonly ErrorObject[]): Problem[] {
  const anyOfPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => e.schemaPath.replace(/\/anyOf$/, "/anyOf/"));
  const kept = errors.filter(
    (e) => e.keyword === "anyOf" || !anyOfPaths.some((s) => e.schemaPath.startsWith(s) || e.schemaPath.includes("duration/anyOf/")),
  );
  const seen = new Set<string>();
  return kept.map(describe).filter((pr) => {
    const key = `${pr.path}\u0000${pr.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function semanticProblems(config: JetbusConfig): Problem[] {
  const problems: Problem[] = [];
  const firstIndex = new Map<string, number>();
  config.actors.forEach((a, i) => {
    const seen = firstIndex.get(a.name);
    if (seen !== undefined)
      problems.push({ path: `actors[${i}].name`, message: `duplicate actor name "${a.name}" (also actors[${seen}])` });
    else firstIndex.set(a.name, i);
    if (a.handler !== undefined && a.module !== undefined)
      problems.push({ path: `actors[${i}].module`, message: "handler and module exclude each other: a module brings its own handler" });
  });
  const aggregateIndex = new Map<string, number>();
  (config.aggregates ?? []).forEach((a, i) => {
    const seen = aggregateIndex.get(a.name);
    if (seen !== undefined)
      problems.push({ path: `aggregates[${i}].name`, message: `duplicate aggregate name "${a.name}" (also aggregates[${seen}])` });
    else aggregateIndex.set(a.name, i);
  });
  // an ordered actor's durables are <actor>-p<k>, and any actor may become ordered (a stateful one
  // is by default): an actor named like that would share a durable with it (found by config-starts.int)
  config.actors.forEach((a, i) => {
    const m = /^(.+)-p\d+$/.exec(typeof a.name === "string" ? a.name : "");
    const owner = m ? config.actors.find((o) => o.name === m[1]) : undefined;
    if (owner)
      problems.push({
        path: `actors[${i}].name`,
        message: `"${a.name}" is the name of a partition durable of actor "${owner.name}" (<actor>-p<k> when ordered); choose another name`,
      });
  });
  return problems.concat(checkRoutes(config), directProblems(config), notificationProblems(config), projectionProblems(config));
}

/**
 * Validates a parsed config document in place (defaults are filled in) and returns every
 * problem found: schema problems first, then the semantic ones (see semanticsOfInvalid).
 */
export function validateConfig(doc: unknown): { config?: JetbusConfig; problems: Problem[] } {
  // before the validator, which recurses per level (a deep enough document overflows the stack)
  const tooDeep = depthProblem(doc);
  if (tooDeep) return { problems: [tooDeep] };
  const validate = configValidator();
  if (!validate(doc)) {
    const schema = schemaProblems(validate.errors ?? []);
    return { problems: [...schema, ...semanticsOfInvalid(doc, schema)] };
  }
  const config = doc as JetbusConfig;
  const problems = [...durationProblems(config), ...semanticProblems(config)];
  return problems.length ? { problems } : { config, problems };
}

/**
 * The semantic problems of a document that also has schema problems, so one run lists both
 * (an unknown key and an unknown rule target are fixed in the same edit). The checks assume a
 * well-formed document: one that trips over the malformed part is skipped, and so is a
 * semantic problem inside a part the schema already reported.
 */
function semanticsOfInvalid(doc: unknown, schema: readonly Problem[]): Problem[] {
  let found: Problem[];
  try {
    found = semanticProblems(doc as JetbusConfig);
  } catch {
    return [];
  }
  const under = (path: string, at: string) => path === at || path.startsWith(at + ".") || path.startsWith(at + "[");
  return found.filter((pr) => !schema.some((sp) => sp.path && (under(pr.path, sp.path) || under(sp.path, pr.path))));
}
