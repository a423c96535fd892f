import type { ActorSettings, JetbusConfig } from "./types.ts";
import type { Problem } from "../errors.ts";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import {
  parsePattern,
  patternCovers,
  PatternError,
  PatternKind,
  storeFiltersOf,
  subjectsOverlap,
  type Pattern,
} from "../events/type-pattern.ts";

export type DirectConfig = Pick<JetbusConfig, "actors" | "routes">;
export type DirectFilter = Readonly<{ subjects: string[]; problems: Problem[] }>;

export function isDirect(actor: Pick<ActorSettings, "delivery">): boolean {
  return actor.delivery === "direct";
}

/**
 * The store subjects a direct actor's durable filters on: two per rule naming it
 * (`events.<type pattern>` and `events.@.*.*.<type pattern>`, the entity subjects of aggregates'
 * events), minus those another one covers. The router would give the actor
 * exactly these events only if every such rule decides on the type alone, so anything else
 * (a data or source match, a transform, first-match mode, ordering, a prefix glob no subject
 * filter can express, or filters NATS refuses as overlapping) is a problem naming its path.
 */
export function directFilterOf(actorIndex: number, config: DirectConfig): DirectFilter {
  const actor = config.actors[actorIndex]!;
  const at = `actors[${actorIndex}].delivery`;
  const problems: Problem[] = [];
  const why = `actor "${actor.name}" has delivery "direct" (one hop from the store, filtered by type)`;
  if (actor.ordered)
    problems.push({ path: at, message: `${why}: not possible for an ordered actor (its inbox partitions keep the order)` });
  if (config.routes.mode === "first-match")
    problems.push({ path: at, message: `${why}: needs routes.mode "all-matches" (in first-match an earlier rule's data match decides)` });
  const patterns: Pattern[] = [];
  config.routes.rules.forEach((rule, i) => {
    if (!rule.to.includes(actor.name)) return;
    const here = `routes.rules[${i}]`;
    if (rule.match.data !== undefined) problems.push({ path: `${here}.match.data`, message: `${why}: its rules may match on type only` });
    if (rule.match.source !== undefined)
      problems.push({ path: `${here}.match.source`, message: `${why}: its rules may match on type only` });
    if (rule.transform !== undefined) problems.push({ path: `${here}.transform`, message: `${why}: its rules cannot transform` });
    let p: Pattern;
    try {
      p = parsePattern(rule.match.type ?? "*");
    } catch (err) {
      if (err instanceof PatternError) return; // reported by the route checks
      throw err;
    }
    if (storeFiltersOf(p, EVENTS_PREFIX) === undefined)
      problems.push({
        path: `${here}.match.type`,
        message:
          p.kind === PatternKind.Prefix
            ? `${why}: "${p.text}" is a prefix glob no subject filter expresses; use an exact type or whole-token wildcards ("User.*", "User.>")`
            : `${why}: "${p.text}" starts with a wildcard that would also match aggregates' entity subjects (events.@.<aggregate>.<entity>.<type>); start it with a literal token ("User.>")`,
      });
    else patterns.push(p);
  });
  if (patterns.length === 0 && problems.length === 0)
    problems.push({ path: at, message: `${why}: no rule routes to it, and a durable without a filter would get every event` });
  // a pattern another one covers adds nothing (and NATS refuses overlapping filters)
  const kept = patterns.filter((p, i) => !patterns.some((q, j) => j !== i && patternCovers(q, p) && (!patternCovers(p, q) || j < i)));
  // each type on its plain subject and on aggregates' entity subjects (runtime/events/subjects.ts)
  const subjects = kept.flatMap((p) => storeFiltersOf(p, EVENTS_PREFIX)!);
  for (let i = 0; i < subjects.length; i++)
    for (let j = i + 1; j < subjects.length; j++)
      if (subjectsOverlap(subjects[i]!, subjects[j]!))
        problems.push({
          path: at,
          message: `${why}: its rules' types ${subjects[i]} and ${subjects[j]} overlap, which NATS refuses in one consumer; use one pattern covering both`,
        });
  return { subjects: problems.length ? [] : subjects, problems };
}

/** The problems of every direct actor of a config (config validation). */
export function directProblems(config: DirectConfig): Problem[] {
  return config.actors.flatMap((a, i) => (isDirect(a) ? directFilterOf(i, config).problems : []));
}
