import type { ActorSettings, RouteSettings } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import type { Predicate } from "../events/type-pattern.ts";

export type { Predicate };

/** What routing needs from a config: the rules, and the actors (ordered actors are partitioned). */
export type RoutingConfig = Readonly<{ routes: RouteSettings; actors: readonly ActorSettings[] }>;

/** One rule after compilation. */
export type CompiledRule = Readonly<{
  index: number;
  /** The rule's `name`, else `rules[<index>]`: goes into the jetbus-rule header. */
  name: string;
  /** Type test alone: its result depends only on the event type, so it is cached per type. */
  matchesType: Predicate<string>;
  /** Source and data tests. */
  matchesRest: Predicate<Event>;
  targets: readonly string[];
  /** Returns new data for the rule's targets; undefined when the rule has no transform. */
  transform?: (data: unknown) => unknown;
}>;

/** One copy of an event for one actor. */
export type RouteCopy = Readonly<{
  actor: string;
  rule: string;
  /** Inbox subject `actors.<actor>.<partition>`. */
  subject: string;
  /** The actor is ordered: copies to one subject must reach the inbox in stream order. */
  ordered: boolean;
  /** The actor has delivery "direct": it reads the event from the store itself, so no copy is published. */
  direct: boolean;
  /** The event as the actor receives it: same id, type and correlation; data possibly transformed. */
  event: Event;
}>;

/** Every rule compiled for one config revision; swapped as a whole when the config changes. */
export type RuleSet = Readonly<{
  revision: number;
  mode: RouteSettings["mode"];
  rules: readonly CompiledRule[];
  /** Pure: the copies an event produces (empty: unrouted). */
  plan(event: Event): RouteCopy[];
}>;
