import { createEvent, eventFromJson } from "../events/codec.ts";
import type { Event } from "../events/types.ts";
import { InvalidEventError } from "../errors.ts";
import { compileRuleSet } from "./plan.ts";
import type { RoutingConfig } from "./types.ts";

export type DryRunResult = Readonly<{
  mode: RoutingConfig["routes"]["mode"];
  event: Event;
  /** Empty: the event would go to `unrouted.<type>`. */
  copies: ReadonlyArray<Readonly<{ actor: string; rule: string; subject: string; data: unknown }>>;
  unroutedSubject?: string;
}>;

/** `route test` input: a structured CloudEvent, or the short form {type, data, source?, id?, correlationid?}. */
export function eventForDryRun(doc: unknown): Event {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new InvalidEventError("the event file must hold a JSON object: a structured CloudEvent or {type, data, source?}");
  const d = doc as Record<string, unknown>;
  if ("specversion" in d) return eventFromJson(d);
  if (typeof d.type !== "string") throw new InvalidEventError(`the event needs a "type" (string)`);
  const opt = (k: string) => {
    const v = d[k];
    if (v !== undefined && typeof v !== "string") throw new InvalidEventError(`"${k}" must be a string`);
    return v as string | undefined;
  };
  return createEvent({
    type: d.type,
    data: d.data ?? null,
    source: opt("source"),
    id: opt("id") ?? "dry-run",
    correlationid: opt("correlationid"),
    time: opt("time"),
  });
}

/** What routing would do with one event under `config`: pure, publishes nothing. */
export function dryRun(config: RoutingConfig, event: Event): DryRunResult {
  const rules = compileRuleSet(config, 0);
  const copies = rules.plan(event).map((c) => ({ actor: c.actor, rule: c.rule, subject: c.subject, data: c.event.data }));
  return { mode: rules.mode, event, copies, ...(copies.length === 0 ? { unroutedSubject: `unrouted.${event.type}` } : {}) };
}
