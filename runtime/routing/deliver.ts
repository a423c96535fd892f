import { NotReadyError } from "../errors.ts";
import { EventForm, type Event } from "../events/types.ts";
import type { Metrics } from "../observability/metrics.ts";
import { SpanKind, startEventSpan, tracingActive } from "../observability/tracing.ts";
import type { BulkPublisher } from "../store/bulk.ts";
import type { IndexWriter, Recorded } from "../store/index-entries.ts";
import type { EventSchemas } from "../store/schemas.ts";
import type { OutgoingMessage } from "../store/types.ts";
import { admit } from "./admit.ts";
import type { ChainedPublisher } from "./chain.ts";
import { copyMessage, quarantineMessage, unroutedMessage, type StoredEventMsg } from "./copies.ts";
import type { RoutedCounts } from "./routed-counts.ts";
import type { SetAsideLog } from "./set-aside-log.ts";
import type { RouteCopy, RuleSet } from "./types.ts";

/** Which copies of an event a lane publishes. */
export const Lane = { Competing: "competing", Ordered: "ordered" } as const;
export type Lane = (typeof Lane)[keyof typeof Lane];

/** How routing one event ended: no error once everything it publishes is stored. Called once. */
export type Routed = (err?: Error) => void;

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
  /** Says in the log what was quarantined or unrouted (rate-limited: set-aside-log.ts). */
  setAside?: SetAsideLog;
}>;

/**
 * Routes one stored event for one lane: a message that is not an admissible event is
 * quarantined, an event no rule selects goes to `unrouted.<type>`, otherwise the lane's copies
 * are published (the ordered ones through their per-subject chains). Ordered copies take their
 * place in their chains synchronously (order matters for chains); `done` is called once every
 * publish is acked, or with the first error.
 *
 * The competing lane also indexes every event that decodes, on the same delivery (one read of
 * the store for routing and indexing): the event is acked only once its index entries are
 * stored. The id entry's write tells whether the id is stored under another sequence too; with
 * `possibleDup` (the lane's own redelivery, an event older than the inbox's duplicate window, a
 * re-route after a crash) or that, every copy carries JetbusHeaders.DupCheck, and without either
 * none does (see the README, Delivery). The ordered lane leaves indexing to the competing lane
 * and reads what it wrote (one batched direct get per event with ordered copies: it cannot know
 * whether the competing lane has got there yet).
 *
 * Callbacks, not promises, on this path: a promise and a continuation per publish and per step
 * were a visible share of the router's time per event.
 */
export function deliverEvent(
  d: DeliveryDeps,
  m: StoredEventMsg,
  rules: RuleSet,
  lane: Lane,
  chains: ChainedPublisher | undefined,
  possibleDup: boolean,
  done: Routed,
): void {
  const admitted = admit(m, d.schemas());
  const decoded = admitted.event ?? admitted.decoded;
  const competing = lane === Lane.Competing;
  if (!decoded) {
    if (!competing) return done(); // the competing lane quarantines it
    // counted as the indexer counted the messages it could not index before the router took indexing over
    d.metrics.malformed.inc({ component: "router" });
    return quarantine(d, m, admitted.reason ?? "undecodable", done);
  }
  const index = competing ? d.index() : undefined;
  let event = admitted.event;
  if (!event) {
    if (!competing) return done();
    // decodes but breaks its schema: indexed like any stored event, then quarantined
    const reason = admitted.reason!;
    if (!index) return quarantine(d, m, reason, done);
    return indexEvent(d, index, decoded, m.seq, (err) => (err ? done(err) : quarantine(d, m, reason, done)));
  }
  if (tracingActive()) {
    // with an OpenTelemetry SDK, routing is a span and the copies name it as their parent
    const span = startEventSpan(`route ${event.type}`, {
      kind: SpanKind.Consumer,
      traceparent: event.traceparent,
      lane,
      "event.id": event.id,
      "event.type": event.type,
    });
    if (span.traceparent) event = { ...event, traceparent: span.traceparent };
    const finish = done;
    done = (err) => {
      span.end(err);
      finish(err);
    };
  }
  const copies = rules.plan(event);
  if (copies.length === 0) {
    if (!competing) return done();
    const unrouted = unroutedMessage(m, event, rules.revision);
    const send = () =>
      publish(d, unrouted, (err) => {
        if (!err) {
          d.metrics.unrouted.inc();
          d.setAside?.unrouted(m, event, rules.revision);
        }
        done(err);
      });
    if (!index) return send();
    return indexEvent(d, index, event, m.seq, (err) => (err ? done(err) : send()));
  }
  if (competing && !d.orderedLaneReady() && copies.some((c) => c.ordered)) {
    d.orderedLaneNeeded();
    return done(new NotReadyError("the ordered lane is being created; event offered again"));
  }
  const mine: RouteCopy[] = [];
  for (const c of copies) {
    if (c.ordered !== !competing) continue;
    // a direct actor's durable on the store delivers the event itself: routed, with no copy to publish
    if (c.direct) d.routed.add(c.rule, c.actor);
    else mine.push(c);
  }
  // a binary or raw event's body is its data: a copy that does not transform it sends those bytes
  const from: CopySource = {
    event,
    body: admitted.form === EventForm.Structured ? undefined : m.data,
    seq: m.seq,
    revision: rules.revision,
  };
  if (!competing) return orderedCopies(d, mine, from, chains, possibleDup, done);
  if (!index) return sendCopies(d, mine, from, true, done);
  if (possibleDup) {
    // the copies say so whatever the index finds: both at once
    const both = join(2, done);
    indexEvent(d, index, event, m.seq, (err) => both(err));
    return sendCopies(d, mine, from, true, both);
  }
  indexEvent(d, index, event, m.seq, (err, repeated) => (err ? done(err) : sendCopies(d, mine, from, repeated, done)));
}

/** What every copy of one event is made from: the event as routed, its stored body, store sequence and config revision. */
type CopySource = Readonly<{ event: Event; body: Uint8Array | undefined; seq: number; revision: number }>;

function copyOf(c: RouteCopy, from: CopySource, dupCheck: boolean): OutgoingMessage {
  // untransformed (the plan hands the routed event itself): the stored body is the copy's body
  return copyMessage(c, from.seq, from.revision, dupCheck, c.event === from.event ? from.body : undefined);
}

/** The competing lane's copies, each acked in any order. */
function sendCopies(d: DeliveryDeps, copies: readonly RouteCopy[], from: CopySource, dupCheck: boolean, done: Routed): void {
  if (copies.length === 0) return done();
  const one = join(copies.length, done);
  for (const c of copies)
    publish(d, copyOf(c, from, dupCheck), (err) => {
      if (!err) d.routed.add(c.rule, c.actor);
      one(err);
    });
}

/** The ordered lane's copies: each takes its place in its subject's chain now, in stream order; their headers may follow. */
function orderedCopies(
  d: DeliveryDeps,
  copies: readonly RouteCopy[],
  from: CopySource,
  chains: ChainedPublisher | undefined,
  possibleDup: boolean,
  done: Routed,
): void {
  if (copies.length === 0) return done();
  const index = d.index();
  // an index that gives no answer (its leader paused or re-elected: a 5 s direct-get timeout in a fault run) makes the
  // copies say a duplicate is possible, which costs the actor one marker read; failing the event instead failed its
  // chain, and the events after it, delivered before its redelivery, overtook it (chaos short, pause-node: 357
  // events of an ordered actor out of order). The competing lane writes the id entry this check would have recorded.
  const dupCheck = possibleDup || !index ? true : index.check(from.event.id, from.event.correlationid, from.seq).catch(() => true);
  const one = join(copies.length, done);
  for (const c of copies) {
    const msg = typeof dupCheck === "boolean" ? copyOf(c, from, dupCheck) : dupCheck.then((flag) => copyOf(c, from, flag));
    const counted = () => {
      d.routed.add(c.rule, c.actor);
      one();
    };
    if (chains) chains.publish(c.subject, msg).then(counted, one);
    else Promise.resolve(msg).then((ready) => publish(d, ready, (err) => (err ? one(err) : counted())), one);
  }
}

function indexEvent(d: DeliveryDeps, index: IndexWriter, e: Event, seq: number, done: Recorded): void {
  index.submit(e.id, e.correlationid, seq, (err, repeated) => {
    if (!err) d.routed.indexed();
    done(err, repeated);
  });
}

function quarantine(d: DeliveryDeps, m: StoredEventMsg, reason: string, done: Routed): void {
  publish(d, quarantineMessage(m, reason), (err) => {
    if (!err) {
      d.metrics.quarantined.inc();
      d.setAside?.quarantined(m, reason);
    }
    done(err);
  });
}

function publish(d: DeliveryDeps, msg: OutgoingMessage, done: Routed): void {
  d.publisher().submit(msg, (outcome) => done(outcome instanceof Error ? outcome : undefined));
}

/** Calls `done` once all `n` parts ended without an error, or at once with the first error. */
function join(n: number, done: Routed): Routed {
  let left = n;
  let failed = false;
  return (err) => {
    if (failed) return;
    if (err) {
      failed = true;
      return done(err);
    }
    if (--left === 0) done();
  };
}
