import type { NatsConnection } from "@nats-io/transport-node";
import type { ActorSettings } from "../../config/types.ts";
import type { Event } from "../../events/types.ts";
import { HandlerInvalidError } from "../../errors.ts";
import type { StatefulActorDefinition } from "../define.ts";
import { compose } from "../middleware/compose.ts";
import type { HandlerFn, PublishedEvent } from "../types.ts";
import { StateSchemas } from "./schema.ts";
import { statefulHandler } from "./stateful.ts";
import { StateStore } from "./store.ts";
import type { Timers } from "./timers.ts";
import type { StatefulHandleFn } from "./types.ts";

export type AttachDeps = Readonly<{
  nc: NatsConnection;
  replicas: number;
  publishEvent: (event: Event) => Promise<PublishedEvent>;
  timers: () => Promise<Timers>;
  schemas: StateSchemas;
}>;

/**
 * A stateful actor needs its events of one key one at a time across every replica: `ordered` on
 * the same key (one partition's durable has max_ack_pending 1), which startActors fills in when the
 * config has no `ordered` (withStateOrdering). A config naming another key is refused here as
 * `config validate` refuses it; without the check the commit guard would still keep the state
 * right, but handlings of one key would keep conflicting.
 */
export function checkStatefulSettings(settings: ActorSettings, definition: StatefulActorDefinition): void {
  const key = definition.state.key;
  if (settings.ordered?.key !== key) {
    const now = settings.ordered ? `its "ordered.key" is "${settings.ordered.key}"` : `it has no "ordered"`;
    throw new HandlerInvalidError(
      settings.name,
      `keeps state by key "${key}" but ${now}: set "ordered": { "key": "${key}" } in its config, or leave "ordered" out (a stateful actor is ordered on its state key by default)`,
    );
  }
}

/**
 * The worker's handler for a stateful definition (inside its own middleware, `use`), and the
 * settings the worker runs with: the state bucket keeps this actor's processed markers
 * (committed with the state), so the worker's own marker bucket is not used.
 */
export async function attachState(
  settings: ActorSettings,
  definition: StatefulActorDefinition,
  deps: AttachDeps,
): Promise<{ handler: HandlerFn; settings: ActorSettings }> {
  checkStatefulSettings(settings, definition);
  const store = await StateStore.open(deps.nc, settings.name, { replicas: deps.replicas });
  const timers = await deps.timers();
  const handler = statefulHandler(definition.state, definition.handle as StatefulHandleFn<unknown>, {
    actor: settings.name,
    store,
    timers,
    publishEvent: deps.publishEvent,
    markerTtlMs: settings.idempotency.ttl,
    schemas: deps.schemas,
  });
  return {
    handler: compose(handler, ...(definition.use ?? [])),
    settings: { ...settings, idempotency: { ...settings.idempotency, enabled: false } },
  };
}
