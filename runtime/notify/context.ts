import { publishFollowUp, type ContextDeps } from "../actor/context.ts";
import type { ActorContext, FollowUpOptions, PublishedEvent } from "../actor/types.ts";
import type { EventData, Event } from "../events/types.ts";
import type { Logger } from "../log.ts";

/**
 * The ctx of one notification handling, and its deadline. A notification is delivered once and
 * never stored: `deliveryCount` is 1, `streamSeq` 0 and there is no `originSeq`; `working()` has
 * no ack deadline to extend. Follow-ups from `publish` are ordinary events (stored, or
 * notifications when their type is one), with correlation and causation carried over.
 * `ctx.signal` aborts when the actor's `timeout` passes or the shutdown grace period runs out;
 * its AbortController is made only if the handler reads it.
 */
export class NotificationContext implements ActorContext {
  readonly deliveryCount = 1;
  readonly streamSeq = 0;
  readonly originSeq = undefined;
  readonly actor: string;
  readonly replica: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** Deadline (ms since the epoch) of the handling; set by the subscriber while it runs. */
  at = 0;
  private childLogger?: Logger;
  private controller?: AbortController;
  private unlink?: () => void;

  constructor(
    private readonly event: Event,
    private readonly deps: ContextDeps,
  ) {
    this.actor = deps.actor;
    this.replica = deps.replica;
    this.options = deps.options;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const outer = this.deps.signal;
      if (outer.aborted) controller.abort(outer.reason);
      else {
        const forward = () => controller.abort(outer.reason);
        outer.addEventListener("abort", forward, { once: true });
        this.unlink = () => outer.removeEventListener("abort", forward);
      }
    }
    return this.controller.signal;
  }

  /** The handling ran past its deadline: its signal aborts (if the handler took it). */
  expire(reason: Error): void {
    this.controller?.abort(reason);
    this.settled();
  }

  /** The handling is over: stop listening on the process's shutdown signal. */
  settled(): void {
    this.unlink?.();
    this.unlink = undefined;
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
}
