import type { PublishedEvent } from "../types.ts";
import type { Event } from "../../events/types.ts";
import type { Timers } from "./timers.ts";
import type { OutboxItem } from "./types.ts";

export type OutboxDeps = Readonly<{
  actor: string;
  publishEvent: (event: Event) => Promise<PublishedEvent>;
  timers: Timers;
}>;

/**
 * Publishes a committed handling's follow-ups, stores its timers and removes cancelled ones, in
 * staging order. Each step is idempotent inside the duplicate windows (event ids and timer ids
 * are fixed at staging), so a flush repeated after a crash does not double anything.
 */
export async function flushOutbox(deps: OutboxDeps, outbox: readonly OutboxItem[]): Promise<void> {
  for (const item of outbox) {
    if (item.kind === "event") await deps.publishEvent(item.event);
    else if (item.kind === "schedule") await deps.timers.schedule(deps.actor, item.timerId, new Date(item.at), item.event);
    else await deps.timers.cancel(deps.actor, item.timerId);
  }
}
