import type { ActorSettings } from "../config/types.ts";
import type { Event } from "../events/types.ts";
import { Consumers, Subjects, partitionOf } from "../topology.ts";

/**
 * The ordering key of an event for an ordered actor: `correlationid`, `source`, `type`,
 * `subject` (the event's store subject) or `data.<path>`. A missing data path keys on "" so such
 * events still go to one partition and keep their order among themselves.
 */
export function orderingKeyOf(key: string, event: Event): string {
  switch (key) {
    case "correlationid":
      return event.correlationid;
    case "source":
      return event.source;
    case "type":
      return event.type;
    case "subject":
      return `events.${event.type}`;
  }
  if (!key.startsWith("data.")) return event.correlationid;
  let v: unknown = event.data;
  for (const part of key.slice("data.".length).split(".")) {
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[part] : undefined;
  }
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The partition an event goes to: 0 for unordered actors. */
export function partitionFor(actor: Pick<ActorSettings, "ordered">, event: Event): number {
  if (!actor.ordered) return 0;
  return partitionOf(orderingKeyOf(actor.ordered.key, event), actor.ordered.partitions);
}

/** The inbox subject `actors.<actor>.<partition>` the router publishes this event's copy to. */
export function inboxSubjectFor(actor: Pick<ActorSettings, "name" | "ordered">, event: Event): string {
  return Subjects.inbox(actor.name, partitionFor(actor, event));
}

/** The durable consumers of an actor with their filter subjects. */
export function consumersOf(
  actor: Pick<ActorSettings, "name" | "ordered">,
): Array<Readonly<{ durable: string; filter: string; partition?: number }>> {
  if (!actor.ordered) return [{ durable: Consumers.actor(actor.name), filter: Subjects.inboxAll(actor.name) }];
  return Array.from({ length: actor.ordered.partitions }, (_, k) => ({
    durable: Consumers.actorPartition(actor.name, k),
    filter: Subjects.inbox(actor.name, k),
    partition: k,
  }));
}
