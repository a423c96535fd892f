import { InvalidEventError } from "../errors.ts";

export const EVENTS_PREFIX = "events";

/** An event type becomes one or more subject tokens: letters, digits, `_`, `-`, and `.` between tokens. */
const TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function assertEventType(type: string): void {
  if (!TYPE_PATTERN.test(type)) {
    throw new InvalidEventError(
      `event type ${JSON.stringify(type)} is not valid: use letters, digits, "_", "-" and "." between words (it becomes the subject events.<type>)`,
    );
  }
}

export function subjectForType(type: string, prefix = EVENTS_PREFIX): string {
  assertEventType(type);
  return `${prefix}.${type}`;
}

export function typeFromSubject(subject: string, prefix = EVENTS_PREFIX): string {
  if (!subject.startsWith(prefix + ".") || subject.length === prefix.length + 1) {
    throw new InvalidEventError(`subject ${JSON.stringify(subject)} carries no event type (expected ${prefix}.<type>)`);
  }
  const rest = subject.slice(prefix.length + 1);
  if (!rest.startsWith(ENTITY_MARK + ".")) return rest;
  const entity = parseEntitySubject(subject, prefix);
  if (!entity)
    throw new InvalidEventError(
      `subject ${JSON.stringify(subject)} carries no event type (expected ${prefix}.${ENTITY_MARK}.<aggregate>.<entity>.<type>)`,
    );
  return entity.type;
}

// ---- entity subjects (event-sourced aggregates, runtime/aggregate) ----
//
// An aggregate's events are stored on `events.@.<aggregate>.<entity token>.<type>`: one subject
// tree per entity, so `Nats-Expected-Last-Subject-Sequence` checked against `events.@.<aggregate>.<entity token>.>`
// guards an append against every writer of that entity (the server's per-subject optimistic
// concurrency, nats-server 2.11+ for the wildcard), and one batched direct get on that filter reads
// the entity back. Why this layout:
// - `@` is a whole token no event type can hold (types are [A-Za-z0-9_-] tokens), so a plain
//   `events.<type>` subject is never mistaken for an entity subject and `nats pub events.<Type>`
//   keeps working unchanged; the router and the indexer read `events.>` and see both.
// - The type is the tail, after a fixed number of tokens: the events of one type across every
//   entity are `events.@.*.*.<type>` (dotted types and `User.>` patterns included), the second
//   filter beside `events.<type>` that type queries and direct actors use (typeSubjectFilters).
//   With the type first (`events.<type>.<entity>`) one entity's events of several types would
//   have no single filter, and `events.User.>` would match the entities of type `User`.
// - The entity id is readable when it is a plain token (`acct-42`), else `~` + base64url of its
//   bytes (`~` is not in either alphabet, so both forms read back without ambiguity).

/** The token that marks an entity subject: `events.@.<aggregate>.<entity>.<type>`. */
export const ENTITY_MARK = "@";
const PLAIN_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** An aggregate name is one subject token: letters, digits, `_` and `-`. */
export function assertAggregateName(name: string): void {
  if (!NAME_PATTERN.test(name))
    throw new InvalidEventError(
      `aggregate name ${JSON.stringify(name)} is not valid: use 1-64 letters, digits, "_" or "-" (it becomes a subject token)`,
    );
}

/** An entity id as one subject token: itself when it is a plain token, else `~` + base64url of its UTF-8 bytes. */
export function entityToken(id: string): string {
  if (id.length === 0) throw new InvalidEventError("entity id must not be empty");
  return PLAIN_TOKEN.test(id) ? id : "~" + Buffer.from(id, "utf8").toString("base64url");
}

/** The entity id an entityToken came from. */
export function entityIdOf(token: string): string {
  return token.startsWith("~") ? Buffer.from(token.slice(1), "base64url").toString("utf8") : token;
}

/** `events.@.<aggregate>.<entity token>.<type>`: where one event of an entity is stored. */
export function entitySubject(aggregate: string, id: string, type: string, prefix = EVENTS_PREFIX): string {
  assertAggregateName(aggregate);
  assertEventType(type);
  return `${prefix}.${ENTITY_MARK}.${aggregate}.${entityToken(id)}.${type}`;
}

/** `events.@.<aggregate>.<entity token>.>`: every event of one entity (the concurrency guard's and the load's filter). */
export function entityFilter(aggregate: string, id: string, prefix = EVENTS_PREFIX): string {
  assertAggregateName(aggregate);
  return `${prefix}.${ENTITY_MARK}.${aggregate}.${entityToken(id)}.>`;
}

/** The aggregate, entity id and type of an entity subject; undefined for any other subject. */
export function parseEntitySubject(
  subject: string,
  prefix = EVENTS_PREFIX,
): Readonly<{ aggregate: string; id: string; type: string }> | undefined {
  const head = prefix.length + ENTITY_MARK.length + 2;
  if (!subject.startsWith(`${prefix}.${ENTITY_MARK}.`)) return undefined;
  // events.@.<aggregate>.<entity>.<type...>: found by position, no split (the codec reads every stored event's subject)
  const a = subject.indexOf(".", head);
  const b = a < 0 ? -1 : subject.indexOf(".", a + 1);
  if (b < 0 || a === head || b === a + 1) return undefined;
  const aggregate = subject.slice(head, a);
  const type = subject.slice(b + 1);
  if (!NAME_PATTERN.test(aggregate) || !TYPE_PATTERN.test(type)) return undefined;
  return { aggregate, id: entityIdOf(subject.slice(a + 1, b)), type };
}

/**
 * The subject filters that select the events whose type `typeFilter` (an exact type or a
 * whole-token pattern such as `User.*`, `User.>`, `*`) names: the plain subjects and the entity
 * subjects. Undefined when no pair of filters can be exact: a pattern starting with a wildcard
 * token that can reach four tokens (`*.>`, `*.*.*.*`) would also match entity subjects as if
 * `@.<aggregate>.<entity>` were part of a type.
 */
export function typeSubjectFilters(typeFilter: string, prefix = EVENTS_PREFIX): string[] | undefined {
  // every type: one filter already holds both kinds
  if (typeFilter === ">") return [`${prefix}.>`];
  const tokens = typeFilter.split(".");
  if (tokens[0] === "*" && (tokens.length >= 4 || tokens[tokens.length - 1] === ">")) return undefined;
  return [`${prefix}.${typeFilter}`, `${prefix}.${ENTITY_MARK}.*.*.${typeFilter}`];
}

/**
 * Any string as one subject token (ids and correlation ids in index subjects and KV keys):
 * base64url of its UTF-8 bytes, so it is reversible and never holds `.`, `*` or `>`.
 */
export function tokenFor(value: string): string {
  return Buffer.from(value, "utf8").toString("base64url") || "_";
}
