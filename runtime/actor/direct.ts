import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { msToNanos } from "../config/duration.ts";
import type { ActorSettings, JetbusConfig } from "../config/types.ts";
import type { Problem } from "../errors.ts";
import { EVENTS_PREFIX } from "../events/subjects.ts";
import { retryTransient } from "../nats/connect.ts";
import { orMissing } from "../nats/missing.ts";
import { parsePattern, patternCovers, PatternError, PatternKind, storeFiltersOf, subjectsOverlap, type Pattern } from "../routing/match.ts";
import { Consumers } from "../topology.ts";

type DirectConfig = Pick<JetbusConfig, "actors" | "routes">;
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

/** The durable of a direct actor on the store; limits as its inbox durable's. */
export function directConsumerConfig(actor: ActorSettings, subjects: string[]): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: Consumers.direct(actor.name),
    filter_subjects: subjects,
    ack_policy: AckPolicy.Explicit,
    ack_wait: msToNanos(actor.ack_wait),
    max_ack_pending: actor.max_ack_pending,
    max_deliver: -1,
    max_waiting: 512,
  };
}

function sameSubjects(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((s, i) => s === b[i]);
}

/**
 * Creates the store durable of every direct actor. A new one starts where the router's
 * competing lane has acked up to (the events it has not routed yet, as a new inbox copy would),
 * or at the store's start before any router ran. With `update` (routers, which run the live
 * config revision) an existing one keeps its position and gets the current filter_subjects,
 * ack_wait and max_ack_pending; an actor process, whose config file may be older than the live
 * revision, only creates missing ones (`only`: of the actors it runs).
 */
export async function ensureDirectConsumers(
  jsm: JetStreamManager,
  stream: string,
  config: DirectConfig,
  opts: { update: boolean; only?: ReadonlySet<string> },
): Promise<void> {
  for (const [i, actor] of config.actors.entries()) {
    if (!isDirect(actor) || (opts.only && !opts.only.has(actor.name))) continue;
    const { subjects } = directFilterOf(i, config);
    if (subjects.length === 0) continue; // an invalid config never gets here (validation)
    const want = directConsumerConfig(actor, subjects);
    await retryTransient(async () => {
      const existing = await orMissing(() => jsm.consumers.info(stream, want.durable_name));
      if (existing) {
        if (!opts.update) return;
        const c = existing.config;
        const filters = c.filter_subjects ?? (c.filter_subject ? [c.filter_subject] : undefined);
        if (!sameSubjects(filters, subjects) || c.ack_wait !== want.ack_wait || c.max_ack_pending !== want.max_ack_pending)
          await jsm.consumers.update(stream, want.durable_name, {
            filter_subjects: subjects,
            ack_wait: want.ack_wait,
            max_ack_pending: want.max_ack_pending,
          });
        return;
      }
      const router = await orMissing(() => jsm.consumers.info(stream, Consumers.router));
      const floor = router?.ack_floor.stream_seq ?? 0;
      const start =
        floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All };
      await jsm.consumers.add(stream, { ...want, ...start }).catch(async (err) => {
        // another process created it between our look and our add
        if (!(await orMissing(() => jsm.consumers.info(stream, want.durable_name)))) throw err;
      });
    });
  }
}
