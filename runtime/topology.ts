/**
 * Every stream, subject, consumer and bucket name jetbus uses, in one place. The security
 * config in deploy/ and the subject contract of docs/concepts/events.md are written from this file.
 */
export const Streams = {
  /** The event store (name configurable: store.stream). */
  Events: "EVENTS",
  /** Work-queue stream holding every actor's inbox. */
  Inbox: "JETBUS_INBOX",
  DeadLetter: "JETBUS_DLQ",
  Unrouted: "JETBUS_UNROUTED",
  Quarantine: "JETBUS_QUARANTINE",
  /** Derived id and correlation indexes of the default event store (rebuildable from EVENTS). */
  Index: "JETBUS_INDEX",
  /** Durable timers of stateful actors: server message schedules and the messages they fire (work queue). */
  Timers: "JETBUS_TIMERS",
} as const;

/** The index stream of an event store: JETBUS_INDEX for EVENTS, JETBUS_INDEX_<stream> for any other store name. */
export function indexStreamFor(eventStream: string): string {
  return eventStream === Streams.Events ? Streams.Index : `${Streams.Index}_${eventStream}`;
}

export const Subjects = {
  events: "events",
  /** `actors.<actor>.<partition>`: one actor's inbox; partition 0 for unordered actors. */
  inbox: (actor: string, partition = 0) => `actors.${actor}.${partition}`,
  inboxAll: (actor: string) => `actors.${actor}.>`,
  /** `dlq.<actor>`: dead letters of one actor. */
  deadLetter: (actor: string) => `dlq.${actor}`,
  /** Every actor's dead letters. */
  deadLetterAll: "dlq.>",
  /** Every actor's inbox (the subjects of JETBUS_INBOX). */
  inboxes: "actors.>",
  /** `unrouted.<type>`: events no rule selected. */
  unrouted: (type: string) => `unrouted.${type}`,
  /** `quarantine.<original subject>`: messages the router could not decode. */
  quarantine: (subject: string) => `quarantine.${subject}`,
  /** `index.<stream>.>`: every index entry of one event store. */
  indexAll: (eventStream: string) => `index.${eventStream}.>`,
  /** `index.<stream>.id.<token>`: the last message holds the store sequence of the event with that id. */
  indexById: (eventStream: string, idToken: string) => `index.${eventStream}.id.${idToken}`,
  /** `index.<stream>.corr.<token>.<seq>`: one entry per event of a correlation (store sequence `seq`) that did not start it (correlation != id). */
  indexCorrelationEntry: (eventStream: string, corrToken: string, seq: number) => `index.${eventStream}.corr.${corrToken}.${seq}`,
  /** `index.<stream>.corr.<token>.>`: every entry of one correlation, read in one batched direct get. */
  indexCorrelationEntries: (eventStream: string, corrToken: string) => `index.${eventStream}.corr.${corrToken}.>`,
  /** `index.<stream>.corr.<token>`: the head of a correlation's chain, as indexes written before 0.2 held it (read, never written). */
  indexByCorrelation: (eventStream: string, corrToken: string) => `index.${eventStream}.corr.${corrToken}`,
  /** `index.<stream>.through`: every event up to this store sequence was indexed by a one-shot catch-up (`Indexer.catchUp`, `index rebuild`). */
  indexThrough: (eventStream: string) => `index.${eventStream}.through`,
  /** `index.<stream>.link.<seq>`: the event before store sequence `seq` in a legacy chain (read, never written). */
  indexLink: (eventStream: string, seq: number) => `index.${eventStream}.link.${seq}`,
  /** Every subject of JETBUS_TIMERS. */
  timers: "timers.>",
  /** `timers.at.<actor>.<token>`: a pending timer (a message schedule firing once). */
  timerSchedule: (actor: string, timerToken: string) => `timers.at.${actor}.${timerToken}`,
  /** `timers.fire.<actor>.<token>`: what a timer's schedule publishes when it fires; the relay moves it into the store. */
  timerFire: (actor: string, timerToken: string) => `timers.fire.${actor}.${timerToken}`,
  timerFireAll: "timers.fire.>",
  /** `timers.cancel.<actor>.<token>`: an actor's request to cancel its timer; the relay (router user) removes it. */
  timerCancel: (actor: string, timerToken: string) => `timers.cancel.${actor}.${timerToken}`,
  timerCancelAll: "timers.cancel.>",
} as const;

export const Consumers = {
  /** The router's competing lane: copies for unordered actors, unrouted and quarantined events. */
  router: "jetbus-router",
  /** The router's ordered lane: copies for ordered actors, delivered by the server to one pinned router at a time. */
  routerOrdered: "jetbus-router-ordered",
  /** The indexer's own durable before 0.3 (routers index now): read while it exists, deleted by the first router that indexes. */
  indexer: "jetbus-indexer",
  /** Moves fired timers into the event store (run by routers). */
  timerRelay: "jetbus-timers",
  /** Durable of an unordered actor. */
  actor: (actor: string) => actor,
  /** Durable of an actor with `delivery: "direct"` on the event store: filter_subjects are its rules' types (one hop, no inbox copy). */
  direct: (actor: string) => `jetbus-direct-${actor}`,
  /** Durable of one partition of an ordered actor. */
  actorPartition: (actor: string, partition: number) => `${actor}-p${partition}`,
} as const;

export const Buckets = {
  /** Router config with revisions (key `routes`). */
  Config: "jetbus-config",
  /** Live replicas: key `<role>.<replica id>`, expiring when heartbeats stop. */
  Presence: "jetbus-presence",
  /** Processed markers of one actor: key = event id token. */
  processed: (actor: string) => `jetbus-processed-${actor}`,
  /** State of a stateful actor: keys `s.<key token>` (state, with history), `m.<event token>` (processed markers), `f.<event token>` (outbox flushed). */
  state: (actor: string) => `jetbus-state-${actor}`,
} as const;

/** Keys inside a stateful actor's bucket (tokens are base64url, see tokenFor). */
export const StateKeys = {
  state: (keyToken: string) => `s.${keyToken}`,
  marker: (eventToken: string) => `m.${eventToken}`,
  flushed: (eventToken: string) => `f.${eventToken}`,
  allStates: "s.>",
} as const;

/** Keys inside KV jetbus-config. */
export const ConfigKeys = {
  /** The applied config (whole document, defaults filled in); each apply or rollback is a new revision. */
  Routes: "routes",
} as const;

/** Priority groups of pinned durables (`priority_policy: pinned_client`): the server delivers to one client of the group at a time. */
export const PriorityGroups = {
  /** Every router replica pulls `jetbus-router-ordered` in this group; the pinned one publishes the ordered copies. */
  orderedRouter: "ordered",
} as const;

/** Headers jetbus adds besides the CloudEvents ones. */
export const JetbusHeaders = {
  /** Store sequence of the event an inbox copy came from. */
  OriginSeq: "jetbus-origin-seq",
  /** Name of the routing rule that produced an inbox copy. */
  Rule: "jetbus-rule",
  /** Config revision the router ran when it produced the copy. */
  ConfigRevision: "jetbus-config-revision",
  /** Why a message was quarantined. */
  Reason: "jetbus-reason",
  /** Run id of `jetbus replay` on a replayed inbox copy: actors key idempotency on (event id, run id) when present. */
  Replay: "jetbus-replay",
  /**
   * `1` on an inbox copy that may be a second handling of its event: the router's delivery was a
   * redelivery, the event is older than the inbox's duplicate window, or its id is already stored
   * under another sequence; also on dead letters sent back. The actor reads its processed marker
   * for such a copy (and for its own redeliveries), and for no other first delivery.
   */
  DupCheck: "jetbus-dup-check",
  /** Dead letters: the actor that gave up on the event. */
  Actor: "jetbus-actor",
  /** Dead letters: deliveries made before giving up. */
  Attempts: "jetbus-attempts",
  /** Dead letters: message of the last error. */
  Error: "jetbus-error",
  /** Dead letters: code of the last error (its `code`, a TerminalError's own code, or its class name). */
  ErrorCode: "jetbus-error-code",
  /** State revisions: the event whose handling wrote it. */
  EventId: "jetbus-event-id",
  /** State revisions: that handling's processed marker with its outbox (base64url JSON), committed with the state. */
  StateMarker: "jetbus-state-marker",
} as const;

/** FNV-1a: a stable, fast string hash, so every router on every node picks the same partition. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
