import { NotReadyError } from "../errors.ts";
import { EventForm, type Event } from "../events/types.ts";
import type { Metrics } from "../observability/metrics.ts";
import { endWith, SpanKind, startEventSpan, tracingActive } from "../observability/tracing.ts";
import type { BulkPublisher } from "../store/bulk.ts";
import type { IndexWriter } from "../store/index-entries.ts";
import type { EventSchemas } from "../store/schemas.ts";
import { admit } from "./admit.ts";
import type { ChainedPublisher } from "./chain.ts";
import { copyMessage, quarantineMessage, unroutedMessage, type StoredEventMsg } from "./copies.ts";
import type { RoutedCounts } from "./routed-counts.ts";
import type { RouteCopy, RuleSet } from "./types.ts";

/** Which copies of an event a lane publishes. */
export const Lane = { Competing: "competing", Ordered: "ordered" } as const;
export type Lane = (typeof Lane)[keyof typeof Lane];

/** What routing one event needs of its router replica (read when the event is routed). */
export type DeliveryDeps = Readonly<{
  publisher: () => BulkPublisher;
  /** Writes the id and correlation indexes; undefined when this router does not index (`--no-indexer`). */
  index: () => IndexWriter | undefined;
  schemas: () => EventSchemas;
  metrics: Metrics;
  /** Copies routed, counted per rule and actor. */
  routed: RoutedCounts;
  /** Does this replica know the ordered durable exists? */
  orderedLaneReady: () => boolean;
  /** An event has ordered copies but the lane is not there yet: create it. */
  orderedLaneNeeded: () => void;
}>;

const DONE = Promise.resolve();

/**
 * Routes one stored event for one lane: a message that is not an admissible event is
 * quarantined, an event no rule selects goes to `unrouted.<type>`, otherwise the lane's copies
 * are published (the ordered ones through their per-subject chains). Starts every publish, or
 * takes its place in its chain, synchronously (order matters for chains); resolves when all are
 * acked.
 *
 * The competing lane also indexes every event that decodes, on the same delivery (one read of
 * the store for routing and indexing): the event is acked only once its index entries are
 * stored. The id entry's write tells whether the id is stored under another sequence too; with
 * `possibleDup` (the lane's own redelivery, an event older than the inbox's duplicate window, a
 * re-route after a crash) or that, every copy carries JetbusHeaders.DupCheck, and without either
 * none does (see the README, Delivery). The ordered lane leaves indexing to the competing lane
 * and reads what it wrote (one batched direct get per event with ordered copies: it cannot know
 * whether the competing lane has got there yet).
 */
export function deliverEvent(
  d: DeliveryDeps,
  m: StoredEventMsg,
  rules: RuleSet,
  lane: Lane,
  chains: ChainedPublisher | undefined,
  possibleDup: boolean,
): Promise<unknown> {
  const admitted = admit(m, d.schemas());
  const decoded = admitted.event ?? admitted.decoded;
  const competing = lane === Lane.Competing;
  if (!decoded) {
    if (!competing) return DONE; // the competing lane quarantines it
    return d
      .publisher()
      .publish(quarantineMessage(m, admitted.reason ?? "undecodable"))
      .then(() => d.metrics.quarantined.inc());
  }
  const index = d.index();
  const indexed = competing && index ? index.record(decoded.id, decoded.correlationid, m.seq) : undefined;
  let event = admitted.event;
  if (!event) {
    // decodes but breaks its schema: indexed like any stored event, then quarantined
    const quarantined = () => d.publisher().publish(quarantineMessage(m, admitted.reason!));
    return (indexed ?? DONE).then(quarantined).then(() => d.metrics.quarantined.inc());
  }
  // a binary or raw event's body is its data: a copy that does not transform it sends those bytes
  const body = admitted.form === EventForm.Structured ? undefined : m.data;
  if (!tracingActive()) return publishCopies(d, m, event, body, rules, lane, chains, possibleDup, indexed);
  // with an OpenTelemetry SDK, routing is a span and the copies name it as their parent
  const span = startEventSpan(`route ${event.type}`, {
    kind: SpanKind.Consumer,
    traceparent: event.traceparent,
    lane,
    "event.id": event.id,
    "event.type": event.type,
  });
  if (span.traceparent) event = { ...event, traceparent: span.traceparent };
  return endWith(span, publishCopies(d, m, event, body, rules, lane, chains, possibleDup, indexed));
}

function publishCopies(
  d: DeliveryDeps,
  m: StoredEventMsg,
  event: Event,
  body: Uint8Array | undefined,
  rules: RuleSet,
  lane: Lane,
  chains: ChainedPublisher | undefined,
  possibleDup: boolean,
  indexed: Promise<boolean> | undefined,
): Promise<unknown> {
  const copies = rules.plan(event);
  const competing = lane === Lane.Competing;
  if (copies.length === 0) {
    if (!competing) return DONE;
    const unrouted = () => d.publisher().publish(unroutedMessage(m, event, rules.revision));
    return (indexed ?? DONE).then(unrouted).then(() => d.metrics.unrouted.inc());
  }
  if (competing && !d.orderedLaneReady() && copies.some((c) => c.ordered)) {
    d.orderedLaneNeeded();
    return Promise.reject(new NotReadyError("the ordered lane is being created; event offered again"));
  }
  const mine: RouteCopy[] = [];
  for (const c of copies) {
    if (c.ordered !== !competing) continue;
    // a direct actor's durable on the store delivers the event itself: routed, with no copy to publish
    if (c.direct) countRouted(d, c);
    else mine.push(c);
  }
  if (mine.length === 0) return indexed ?? DONE;
  // whether a duplicate is possible: known now, or once the index has answered
  const index = d.index();
  const dupCheck: boolean | Promise<boolean> =
    possibleDup || !index ? true : (indexed ?? index.check(event.id, event.correlationid, m.seq));
  const made = { event, body, seq: m.seq, revision: rules.revision };
  const sent =
    typeof dupCheck === "boolean"
      ? publishAll(d, mine, made, dupCheck, chains)
      : competing
        ? dupCheck.then((flag) => publishAll(d, mine, made, flag, chains))
        : // ordered copies take their place in their chains now, in stream order; their headers follow
          publishAll(d, mine, made, dupCheck, chains);
  return indexed && sent !== indexed ? Promise.all([indexed, sent]) : sent;
}

/** What every copy of one event is made from: the event as routed, its stored body, store sequence and config revision. */
type CopySource = Readonly<{ event: Event; body: Uint8Array | undefined; seq: number; revision: number }>;

function publishAll(
  d: DeliveryDeps,
  copies: readonly RouteCopy[],
  from: CopySource,
  dupCheck: boolean | Promise<boolean>,
  chains: ChainedPublisher | undefined,
): Promise<unknown> {
  const sends = copies.map((c) => {
    // untransformed (the plan hands the routed event itself): the stored body is the copy's body
    const body = c.event === from.event ? from.body : undefined;
    const make = (flag: boolean) => copyMessage(c, from.seq, from.revision, flag, body);
    const msg = typeof dupCheck === "boolean" ? make(dupCheck) : dupCheck.then(make);
    const acked = c.ordered && chains ? chains.publish(c.subject, msg) : publishWhenReady(d, msg);
    return acked.then(() => countRouted(d, c));
  });
  return sends.length === 1 ? sends[0]! : Promise.all(sends);
}

function publishWhenReady(d: DeliveryDeps, msg: ReturnType<typeof copyMessage> | Promise<ReturnType<typeof copyMessage>>) {
  return msg instanceof Promise ? msg.then((m) => d.publisher().publish(m)) : d.publisher().publish(msg);
}

function countRouted(d: DeliveryDeps, c: RouteCopy): void {
  d.routed.add(c.rule, c.actor);
}
