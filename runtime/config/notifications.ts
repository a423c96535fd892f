import type { JetbusConfig } from "./types.ts";
import type { Problem } from "../errors.ts";

import { compilePattern, parsePattern, PatternError, PatternKind, type Pattern } from "../events/type-pattern.ts";

/** What EventBus asks of a config's declared notification types: whether a type is one. */
export type NotificationTypes = Readonly<{ includes(type: string): boolean }>;

const TYPE_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * The event types a config declares notifications (`notifications.types`): EventBus.publish and
 * `jetbus pub` send these with a core NATS publish on `notify.<type>` instead of storing them.
 * Exact types and whole-token wildcards only (`Metrics.*`, `Metrics.>`, `>`): a prefix glob
 * (`Metric*`) reads like a type pattern of the rules but would make "is this a notification"
 * depend on a rule language publishers using the `nats` CLI cannot apply by subject.
 */
export function notificationTypesOf(config: Pick<JetbusConfig, "notifications">): NotificationTypes {
  const tests = config.notifications.types.map((t) => compilePattern(parsePattern(t)));
  if (tests.length === 0) return { includes: () => false };
  // a type's answer never changes for one config: cache it (bounded, as the router's type cache)
  const known = new Map<string, boolean>();
  return {
    includes(type: string): boolean {
      let yes = known.get(type);
      if (yes === undefined) {
        yes = tests.some((t) => t(type));
        if (known.size >= 10_000) known.clear();
        known.set(type, yes);
      }
      return yes;
    },
  };
}

/** Problems of `notifications.types`, with their JSON paths (config validation). */
export function notificationProblems(config: Pick<JetbusConfig, "notifications">): Problem[] {
  const problems: Problem[] = [];
  // also run on documents the schema refused (config/validate.ts): the section may be malformed there
  const types: unknown = config.notifications?.types;
  if (!Array.isArray(types)) return problems;
  types.forEach((text: unknown, i) => {
    if (typeof text !== "string") return;
    const path = `notifications.types[${i}]`;
    let p: Pattern;
    try {
      p = parsePattern(text);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      problems.push({ path, message: err.message });
      return;
    }
    if (p.kind === PatternKind.Prefix)
      problems.push({
        path,
        message: `"${text}" is a prefix glob; a notification type is an exact type or whole-token wildcards ("Metrics.*", "Metrics.>"), as a subject`,
      });
    else if (p.kind !== PatternKind.Any && !text.split(".").every((t) => t === "*" || t === ">" || TYPE_TOKEN.test(t)))
      problems.push({ path, message: `"${text}" is not an event type: use letters, digits, "_", "-" and "." between words` });
  });
  return problems;
}
