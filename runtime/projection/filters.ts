import { ProjectionInvalidError } from "../errors.ts";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import { parsePattern, patternCovers, PatternError, storeFiltersOf, subjectsOverlap, type Pattern } from "../events/type-pattern.ts";

/**
 * The store subjects of a projection's event types: `events.<type>` and, for aggregates' events,
 * `events.@.*.*.<type>` (storeFiltersOf), types another one covers left out. A prefix glob
 * (`Account*`) has no subject filter, and NATS refuses overlapping filters in one consumer
 * (`A.*` with `*.B`): both are a ProjectionInvalidError naming the type.
 */
export function projectionFilters(name: string, events: readonly string[]): string[] {
  const patterns: Pattern[] = [];
  for (const text of events) {
    let p: Pattern;
    try {
      p = parsePattern(text);
    } catch (err) {
      if (err instanceof PatternError) throw new ProjectionInvalidError(name, `event type "${text}": ${err.message}`);
      throw err;
    }
    patterns.push(p);
  }
  const kept = patterns.filter((p, i) => !patterns.some((q, j) => j !== i && patternCovers(q, p) && (!patternCovers(p, q) || j < i)));
  const subjects: string[] = [];
  for (const p of kept) {
    const filters = storeFiltersOf(p, EVENTS_PREFIX);
    if (!filters)
      throw new ProjectionInvalidError(
        name,
        `event type "${p.text}" has no subject filter: use exact types or whole-token wildcards ("Account.*", "Account.>")`,
      );
    subjects.push(...filters);
  }
  for (let i = 0; i < subjects.length; i++)
    for (let j = i + 1; j < subjects.length; j++)
      if (subjectsOverlap(subjects[i]!, subjects[j]!))
        throw new ProjectionInvalidError(
          name,
          `its event types' subjects ${subjects[i]} and ${subjects[j]} overlap, which NATS refuses in one consumer: use one pattern covering both`,
        );
  return subjects;
}
