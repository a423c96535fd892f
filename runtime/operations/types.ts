import type { Event } from "../events/types.ts";
import type { NoAnswer } from "../nats/missing.ts";

export type { NoAnswer };

/** One heartbeat entry of KV `jetbus-presence` as read from the bucket. */
export type PresenceFact = Readonly<{
  key: string;
  /** The parsed JSON value ({role, name, replica, host, pid, startedAt, inFlight, configRevision?}); {} when unreadable. */
  value: Readonly<Record<string, unknown>>;
  /** When the entry was last written: the heartbeat time. */
  at: Date;
  /** Its process is known to be gone (it ran on the reading host and its pid no longer exists): see presence/liveness.ts. */
  gone?: boolean;
}>;

/** How one stream's replica group sees its peers (stream info `cluster`): the cluster's nodes, as far as JetStream knows them. */
export type StreamPlacementFact = Readonly<{
  stream: string;
  cluster?: string;
  leader?: string;
  /** When the leader was elected (cluster.leader_since): a peer it has never heard from (activeMs 0, not current) has been silent at least since. */
  leaderSince?: Date;
  peers: readonly Readonly<{ name: string; current: boolean; offline?: boolean; activeMs: number }>[];
}>;

/** The NATS side: the server this connection is on, and the placement of the streams status reads. */
export type NatsFact = Readonly<{
  connectedTo: string | null;
  placements: readonly StreamPlacementFact[];
  /** Streams whose info got no answer (their group electing a leader): their view of the nodes is missing. */
  unanswered?: readonly string[];
}>;

/** Counters of one durable consumer; `null` in the facts means the consumer does not exist. */
export type ConsumerFact = Readonly<{
  pending: number;
  ackPending: number;
  redelivered: number;
}>;

/**
 * Everything `jetbus status` reads from NATS, before any interpretation. A read the cluster did
 * not answer in time is a NoAnswer, not an error: status is most needed while a node is down.
 */
export type StatusFacts = Readonly<{
  at: Date;
  actors: readonly Readonly<{ name: string; replicas: number; partitions?: number; direct?: boolean }>[];
  /** null: bucket jetbus-presence not created yet. */
  presence: readonly PresenceFact[] | null | NoAnswer;
  inboxExists: boolean | NoAnswer;
  /** Durable name → counters (null: not created yet). */
  /** By durable name: the inbox durables, and direct actors' durables on the event store. */
  inboxConsumers: Readonly<Record<string, ConsumerFact | null | NoAnswer>>;
  /** null: JETBUS_DLQ not created yet; else subject → message count. */
  dlq: Readonly<Record<string, number>> | null | NoAnswer;
  store:
    | Readonly<{ stream: string; messages: number; lastSeq: number; bytes: number }>
    | Readonly<{ stream: string; missing: true }>
    | Readonly<{ stream: string; unanswered: NoAnswer }>;
  router: ConsumerFact | null | NoAnswer;
  /** The router's ordered lane (durable jetbus-router-ordered); null or absent: not created (no ordered actor yet). */
  orderedRouter?: ConsumerFact | null | NoAnswer;
  /** The router replica pinned to the ordered lane (from its heartbeat), or null when none says so. */
  orderedLaneHolder?: string | null;
  indexer: ConsumerFact | null | NoAnswer;
  /** Latest revision of the routing config in KV jetbus-config (null: none stored). */
  configRevision: number | null | NoAnswer;
  /** Messages in JETBUS_QUARANTINE and JETBUS_UNROUTED (null: stream not created yet). */
  setAside?: Readonly<{ quarantine: number | null | NoAnswer; unrouted: number | null | NoAnswer }>;
  nats?: NatsFact;
}>;

export const NOT_CREATED = "not created yet" as const;
/** A part status asked about and got no answer for in time (see NoAnswer): unknown, not missing. */
export const NO_ANSWER = "no answer" as const;

export type PartState = "ok" | typeof NOT_CREATED | typeof NO_ANSWER;

export type ConsumerStatus = Readonly<{ name: string; state: PartState } & Partial<ConsumerFact>>;

export type ReplicaStatus = Readonly<{
  id: string;
  host?: string;
  pid?: number;
  inFlight?: number;
  configRevision?: number;
  /** Milliseconds since the last heartbeat. */
  ageMs: number;
}>;

export type ActorStatus = Readonly<{
  name: string;
  /**
   * live: workers heartbeating now; processes: how many processes they run in; desired: the
   * config's `replicas`, which is per process (`jetbus actor --replicas N` runs N).
   */
  replicas: Readonly<{ live: number; processes: number; desired: number; list: readonly ReplicaStatus[] }>;
  /** Sums over the actor's durables; null when none of them exists yet. */
  lag: number | null;
  inFlight: number | null;
  redeliveries: number | null;
  /** null: JETBUS_DLQ not created yet. */
  dlq: number | null;
  consumers: readonly ConsumerStatus[];
}>;

export type StatusReport = Readonly<{
  at: string;
  actors: readonly ActorStatus[];
  router: Readonly<{
    replicas: readonly ReplicaStatus[];
    /** Latest config revision stored in jetbus-config; replicas running an older one are stale. */
    latestConfigRevision: number | null;
    /** The config bucket did not answer: latestConfigRevision is unknown, not absent. */
    configRevisionUnknown?: true;
    staleReplicas: readonly string[];
    consumer: ConsumerStatus;
    /** Present once the ordered lane exists: who consumes it (null: nobody, e.g. during a failover) and its counters. */
    orderedLane?: Readonly<{ holder: string | null; consumer: ConsumerStatus }>;
  }>;
  indexer: Readonly<{ consumer: ConsumerStatus }>;
  store: Readonly<{ stream: string; state: PartState; messages?: number; lastSeq?: number; bytes?: number }>;
  inbox: PartState;
  /** Events the router set aside: quarantined (not routable) and unrouted (no rule matched); null: stream not created or no answer. */
  setAside?: Readonly<{ quarantined: number | null; unrouted: number | null }>;
  deadLetter: PartState;
  presence: PartState;
  /** What got no answer in time (e.g. "stream EVENTS", "consumer jetbus-router"), and the longest wait; absent when everything answered. */
  unanswered?: Readonly<{ parts: readonly string[]; waitedMs: number }>;
  /** The NATS servers as status sees them (absent when not read). */
  nats?: NatsStatus;
}>;

/**
 * A NATS node as the replica groups of the streams status reads see it: ok, down (offline, or no
 * word from it for NODE_SILENT_MS in every group it is in), or behind (answering, not caught up).
 */
export type NatsNodeStatus = Readonly<{ name: string; state: "ok" | "down" | "behind"; silentMs?: number }>;
export type NatsStatus = Readonly<{
  connectedTo: string | null;
  cluster: string | null;
  nodes: readonly NatsNodeStatus[];
  /** Streams whose group did not answer: the nodes are judged without them. */
  unanswered?: readonly string[];
}>;

/** An event as trace sees it: the event plus where it sits in the store. */
export type StoredEvent = Readonly<{ event: Event; seq?: number }>;

/** An idempotency marker: actor `actor` finished the event. Value of KV jetbus-processed-<actor>. */
export type HandledFact = Readonly<{ actor: string; eventId: string; at?: string; attempts?: number; replica?: string }>;

/** An event the router set aside instead of routing: in JETBUS_QUARANTINE (with the reason) or JETBUS_UNROUTED. */
export type SetAsideFact = Readonly<{
  kind: "quarantine" | "unrouted";
  seq: number;
  eventId: string;
  originSeq?: number;
  reason?: string;
  revision?: number;
}>;

/** A dead letter of JETBUS_DLQ for one event. */
export type DeadLetterFact = Readonly<{
  actor: string;
  eventId: string;
  seq: number;
  at: string;
  attempts?: number;
  error?: string;
  errorCode?: string;
}>;

export type TraceFacts = Readonly<{
  correlationId: string;
  events: readonly StoredEvent[];
  handled: readonly HandledFact[];
  deadLetters: readonly DeadLetterFact[];
  /** Actors each event was routed to by the current rules, when the routing plan is available. */
  routedTo?: Readonly<Record<string, readonly string[]>>;
  /** Events of the correlation the router quarantined or found no rule for. */
  setAside?: readonly SetAsideFact[];
}>;

export type TraceNode = Readonly<{
  event: Event;
  seq?: number;
  handled: readonly HandledFact[];
  deadLetters: readonly DeadLetterFact[];
  /** Routed by the current rules but neither handled nor dead-lettered (yet). */
  waiting: readonly string[];
  /** The causationid names an event that is not part of this correlation (or not stored). */
  missingCause?: string;
  /** The router quarantined it or found no rule for it: no actor got it. */
  setAside?: readonly SetAsideFact[];
  children: readonly TraceNode[];
}>;

export type TraceTree = Readonly<{
  correlationId: string;
  roots: readonly TraceNode[];
  events: number;
  handled: number;
  deadLettered: number;
  /** Events quarantined or unrouted (absent when none). */
  setAside?: number;
}>;
