import { publishFollowUp, type ContextDeps } from "../actor/context.ts";
import type { ActorContext, FollowUpOptions, PublishedEvent } from "../actor/types.ts";
import type { EventData, Event } from "../events/types.ts";
import type { Logger } from "../log.ts";

/**
 * The ctx of one notification handling. A notification is delivered once and never stored:
 * `deliveryCount` is 1, `streamSeq` 0 and there is no `originSeq`; `working()` has no deadline to
 * extend. Follow-ups from `publish` are ordinary events (stored, or notifications when their type
 * is one), with correlation and causation carried over as for any handling.
 */
export class NotificationContext implements ActorContext {
  readonly deliveryCount = 1;
  readonly streamSeq = 0;
  readonly originSeq = undefined;
  readonly actor: string;
  readonly replica: string;
  readonly options: Readonly<Record<string, unknown>>;
  private childLogger?: Logger;

  constructor(
    private readonly event: Event,
    private readonly deps: ContextDeps,
    private readonly signalOf?: () => AbortSignal,
  ) {
    this.actor = deps.actor;
    this.replica = deps.replica;
    this.options = deps.options;
  }

  get signal(): AbortSignal {
    return this.signalOf ? this.signalOf() : this.deps.signal;
  }

  get logger(): Logger {
    this.childLogger ??= this.deps.logger.child({
      actor: this.actor,
      eventId: this.event.id,
      eventType: this.event.type,
      correlationId: this.event.correlationid,
      notification: true,
    });
    return this.childLogger;
  }

  publish<K extends string>(type: K, data: EventData<K>, opts: FollowUpOptions = {}): Promise<PublishedEvent> {
    return publishFollowUp(this.deps, this.event, type, data, opts);
  }

  working(): void {
    // nothing to keep alive: a notification has no ack deadline
  }

  withSignal(signalOf: () => AbortSignal): ActorContext {
    return new NotificationContext(this.event, this.deps, signalOf);
  }
}
