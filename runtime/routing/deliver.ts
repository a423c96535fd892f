import { NotReadyError } from "../errors.ts";
import type { Event } from "../events/types.ts";
import type { Metrics } from "../observability/metrics.ts";
import { endWith, SpanKind, startEventSpan } from "../observability/tracing.ts";
import { TallyKeys, type Tally } from "../presence/mod.ts";
import type { BulkPublisher } from "../store/bulk.ts";
import type { EventSchemas } from "../store/schemas.ts";
import { admit } from "./admit.ts";
import type { ChainedPublisher } from "./chain.ts";
import { copyMessage, quarantineMessage, unroutedMessage, type StoredEventMsg } from "./copies.ts";
import type { SetAsideLog } from "./set-aside-log.ts";
import type { RouteCopy, RuleSet } from "./types.ts";

/** Which copies of an event a lane publishes. */
export const Lane = { Competing: "competing", Ordered: "ordered" } as const;
export type Lane = (typeof Lane)[keyof typeof Lane];

/** What routing one event needs of its router replica (read when the event is routed). */
export type DeliveryDeps = Readonly<{
  publisher: () => BulkPublisher;
  schemas: () => EventSchemas;
  metrics: Metrics;
  tally: () => Tally;
  /** Does this replica know the ordered durable exists? */
  orderedLaneReady: () => boolean;
  /** An event has ordered copies but the lane is not there yet: create it. */
  orderedLaneNeeded: () => void;
  /** Says in the log what was quarantined or unrouted (rate-limited: set-aside-log.ts). */
  setAside?: SetAsideLog;
}>;

/**
 * Routes one stored event for one lane: a message that is not an admissible event is
 * quarantined, an event no rule selects goes to `unrouted.<type>`, otherwise the lane's copies
 * are published (the ordered ones through their per-subject chains). Starts every publish
 * synchronously (order matters for chains); resolves when all are acked.
 */
export function deliverEvent(d: DeliveryDeps, m: StoredEventMsg, rules: RuleSet, lane: Lane, chains?: ChainedPublisher): Promise<unknown> {
  const admitted = admit(m, d.schemas());
  let event = admitted.event;
  if (!event) {
    if (lane === Lane.Ordered) return Promise.resolve(); // the competing lane quarantines it
    return d
      .publisher()
      .publish(quarantineMessage(m, admitted.reason ?? "undecodable"))
      .then(() => {
        d.metrics.quarantined.inc();
        d.setAside?.quarantined(m, admitted.reason ?? "undecodable");
      });
  }
  // with an OpenTelemetry SDK, routing is a span and the copies name it as their parent
  const span = startEventSpan(`route ${event.type}`, {
    kind: SpanKind.Consumer,
    traceparent: event.traceparent,
    lane,
    "event.id": event.id,
    "event.type": event.type,
  });
  if (span.traceparent) event = { ...event, traceparent: span.traceparent };
  return endWith(span, publishCopies(d, m, event, rules, lane, chains));
}

function publishCopies(
  d: DeliveryDeps,
  m: StoredEventMsg,
  event: Event,
  rules: RuleSet,
  lane: Lane,
  chains?: ChainedPublisher,
): Promise<unknown> {
  const copies = rules.plan(event);
  if (copies.length === 0) {
    if (lane === Lane.Ordered) return Promise.resolve();
    return d
      .publisher()
      .publish(unroutedMessage(m, event, rules.revision))
      .then(() => {
        d.metrics.unrouted.inc();
        d.setAside?.unrouted(m, event, rules.revision);
      });
  }
  if (lane === Lane.Competing && !d.orderedLaneReady() && copies.some((c) => c.ordered)) {
    d.orderedLaneNeeded();
    return Promise.reject(new NotReadyError("the ordered lane is being created; event offered again"));
  }
  const mine = copies.filter((c) => c.ordered === (lane === Lane.Ordered));
  return Promise.all(
    mine.map((c) => {
      // a direct actor's durable on the store delivers the event itself: routed, with no copy to publish
      if (c.direct) return Promise.resolve(countRouted(d, c));
      const msg = copyMessage(c, m.seq, rules.revision);
      const acked = c.ordered && chains ? chains.publish(c.subject, msg) : d.publisher().publish(msg);
      return acked.then(() => countRouted(d, c));
    }),
  );
}

function countRouted(d: DeliveryDeps, c: RouteCopy): void {
  d.metrics.routed.inc({ actor: c.actor });
  d.tally().add(TallyKeys.copy(c.rule, c.actor));
}
