import { isLive, staleAfterMs } from "../presence/liveness.ts";
import { isNoAnswer, type NoAnswer } from "../nats/missing.ts";
import { Buckets, Consumers, Streams, Subjects } from "../topology.ts";
import {
  NOT_CREATED,
  NO_ANSWER,
  type PartState,
  type ActorStatus,
  type ConsumerFact,
  type ConsumerStatus,
  type NatsFact,
  type NatsNodeStatus,
  type NatsStatus,
  type PresenceFact,
  type ReplicaStatus,
  type StatusFacts,
  type StatusReport,
  type StreamPlacementFact,
} from "./types.ts";

/**
 * A heartbeat older than this is a replica that died without removing its entry, for readers
 * that judge by age alone (the console); status also reads each entry's own beat period and
 * whether its process is gone (presence/liveness.ts).
 */
export const DEFAULT_STALE_AFTER_MS = staleAfterMs();

/**
 * A peer a replica group has not heard from for this long is down. Leaders send Raft heartbeats
 * about every second (measured on 2.15.1: an idle R3 stream's live followers were last heard
 * 0.1-0.8 s before, a killed node's age grew from its kill); `current` turns false only after
 * ~10 s, and `offline` only on a clean shutdown.
 */
export const NODE_SILENT_MS = 5_000;

/**
 * The durables one actor consumes from: `<actor>`, or `<actor>-p<k>` per partition for ordered
 * actors; a direct actor also `jetbus-direct-<actor>` on the event store.
 */
export function durablesOf(actor: Readonly<{ name: string; partitions?: number; direct?: boolean }>): string[] {
  if (actor.direct) return [Consumers.actor(actor.name), Consumers.direct(actor.name)];
  if (!actor.partitions) return [Consumers.actor(actor.name)];
  return Array.from({ length: actor.partitions }, (_, k) => Consumers.actorPartition(actor.name, k));
}

/** What status asked about and got no answer for, in the words the render uses. */
function unansweredParts(facts: StatusFacts): { parts: string[]; waitedMs: number } | undefined {
  const asked: [string, unknown][] = [
    [`stream ${facts.store.stream}`, "unanswered" in facts.store ? facts.store.unanswered : null],
    [`KV ${Buckets.Presence}`, facts.presence],
    [`stream ${Streams.Inbox}`, facts.inboxExists],
    [`stream ${Streams.DeadLetter}`, facts.dlq],
    [`consumer ${Consumers.router}`, facts.router],
    [`consumer ${Consumers.routerOrdered}`, facts.orderedRouter],
    [`consumer ${Consumers.indexer}`, facts.indexer],
    [`KV ${Buckets.Config}`, facts.configRevision],
    [`stream ${Streams.Quarantine}`, facts.setAside?.quarantine],
    [`stream ${Streams.Unrouted}`, facts.setAside?.unrouted],
    ...Object.entries(facts.inboxConsumers).map(([d, c]): [string, unknown] => [`consumer ${d}`, c]),
  ];
  const none = asked.filter((a): a is [string, NoAnswer] => isNoAnswer(a[1]));
  return none.length ? { parts: none.map(([what]) => what), waitedMs: Math.max(...none.map(([, a]) => a.waitedMs)) } : undefined;
}

/** The heartbeat entries read (none when the bucket is missing or did not answer). */
export function presenceEntries(facts: Pick<StatusFacts, "presence">): readonly PresenceFact[] {
  return isNoAnswer(facts.presence) ? [] : (facts.presence ?? []);
}

const stateOf = (v: unknown): PartState => (isNoAnswer(v) ? NO_ANSWER : v === null || v === false ? NOT_CREATED : "ok");

/** Pure: turns what was read from NATS into the status report. */
export function buildStatusReport(facts: StatusFacts, opts: { staleAfterMs?: number } = {}): StatusReport {
  const now = facts.at.getTime();
  const live = presenceEntries(facts).filter((p) =>
    opts.staleAfterMs === undefined ? isLive(p, now) : !p.gone && now - p.at.getTime() <= opts.staleAfterMs,
  );
  const actors = facts.actors.map((a): ActorStatus => {
    const consumers = durablesOf(a).map((d) =>
      consumerStatus(d, facts.inboxConsumers[d] ?? (isNoAnswer(facts.inboxExists) ? facts.inboxExists : null)),
    );
    const existing = consumers.filter((c) => c.state === "ok");
    const sum = (k: keyof ConsumerFact) => (existing.length ? existing.reduce((n, c) => n + (c[k] ?? 0), 0) : null);
    const mine = live.filter((p) => roleOf(p) === "actor" && actorNameOf(p) === a.name);
    const replicas = mine.map((p) => replicaOf(p, now));
    return {
      name: a.name,
      replicas: { live: replicas.length, processes: processCount(mine), desired: a.replicas, list: replicas },
      lag: sum("pending"),
      inFlight: sum("ackPending"),
      redeliveries: sum("redelivered"),
      dlq: facts.dlq === null || isNoAnswer(facts.dlq) ? null : (facts.dlq[Subjects.deadLetter(a.name)] ?? 0),
      consumers,
    };
  });
  const routers = live.filter((p) => roleOf(p) === "router").map((p) => replicaOf(p, now));
  const latest = isNoAnswer(facts.configRevision) ? null : facts.configRevision;
  const stale = latest === null ? [] : routers.filter((r) => r.configRevision !== undefined && r.configRevision < latest).map((r) => r.id);
  const store =
    "missing" in facts.store
      ? { stream: facts.store.stream, state: NOT_CREATED }
      : "unanswered" in facts.store
        ? { stream: facts.store.stream, state: NO_ANSWER }
        : {
            stream: facts.store.stream,
            state: "ok" as const,
            messages: facts.store.messages,
            lastSeq: facts.store.lastSeq,
            bytes: facts.store.bytes,
          };
  const unanswered = unansweredParts(facts);
  return {
    at: facts.at.toISOString(),
    actors,
    router: {
      replicas: routers,
      latestConfigRevision: latest,
      ...(isNoAnswer(facts.configRevision) ? { configRevisionUnknown: true as const } : {}),
      staleReplicas: stale,
      consumer: consumerStatus(Consumers.router, facts.router),
      // no answer about the lane's durable: whether the lane exists is unknown (listed under unanswered), so no line about it
      ...(facts.orderedRouter && !isNoAnswer(facts.orderedRouter)
        ? {
            orderedLane: {
              holder: facts.orderedLaneHolder ?? null,
              consumer: consumerStatus(Consumers.routerOrdered, facts.orderedRouter),
            },
          }
        : {}),
    },
    indexer: { consumer: consumerStatus(Consumers.indexer, facts.indexer) },
    store,
    inbox: stateOf(facts.inboxExists),
    ...(facts.setAside ? { setAside: { quarantined: known(facts.setAside.quarantine), unrouted: known(facts.setAside.unrouted) } } : {}),
    deadLetter: stateOf(facts.dlq),
    presence: stateOf(facts.presence),
    ...(unanswered ? { unanswered } : {}),
    ...(facts.nats ? { nats: natsStatus(facts.nats, now) } : {}),
  };
}

/** Processes the entries come from: host and pid (the replica id when an entry has no pid). */
function processCount(entries: readonly PresenceFact[]): number {
  return new Set(
    entries.map((p) => (typeof p.value.pid === "number" ? `${String(p.value.host)}/${String(p.value.pidns)}/${p.value.pid}` : p.key)),
  ).size;
}

const known = (v: number | null | NoAnswer | undefined): number | null => (isNoAnswer(v) ? null : (v ?? null));

/**
 * How long a group's leader has not heard from a peer. A leader elected after the node died has
 * never heard from it: the server reports such a peer with active 0 and current false (measured
 * on 2.15.1: kill -9 of an R3 stream's leader; the new leader, elected 3.4 s later, listed the
 * dead node as "active 0, current false, lag 2" for the 33 s we watched, and never as offline).
 * Read as "heard just now", that hid the dead node for good; it has been silent at least since
 * the leader took over (leader_since). A live follower answers a new leader's first append within
 * milliseconds (its active was 93-126 ms half a second after the election).
 */
function silentMsOf(peer: StreamPlacementFact["peers"][number], p: StreamPlacementFact, now: number): number {
  if (peer.activeMs > 0 || peer.current || !p.leaderSince) return peer.activeMs;
  return Math.max(0, now - p.leaderSince.getTime());
}

/** Every node a replica group names, judged by all that name it (see NatsNodeStatus); `now` is when the facts were read. */
export function natsStatus(f: NatsFact, now: number): NatsStatus {
  const heard = new Map<string, { leader: boolean; silent: number[]; down: boolean[]; behind: boolean }>();
  const node = (name: string) => {
    let n = heard.get(name);
    if (!n) heard.set(name, (n = { leader: false, silent: [], down: [], behind: false }));
    return n;
  };
  for (const p of f.placements) {
    if (p.leader) node(p.leader).leader = true;
    for (const peer of p.peers) {
      const n = node(peer.name);
      const silent = silentMsOf(peer, p, now);
      n.silent.push(silent);
      n.down.push(peer.offline === true || silent >= NODE_SILENT_MS);
      n.behind ||= !peer.current;
    }
  }
  const nodes = [...heard.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]): NatsNodeStatus => {
      // a leader answered the request just made; a peer is down only if every group that has it says so
      if (!n.leader && n.down.length > 0 && n.down.every(Boolean)) return { name, state: "down", silentMs: Math.min(...n.silent) };
      return { name, state: !n.leader && n.behind ? "behind" : "ok" };
    });
  return {
    connectedTo: f.connectedTo,
    cluster: f.placements.find((p) => p.cluster)?.cluster ?? null,
    nodes,
    ...(f.unanswered?.length ? { unanswered: f.unanswered } : {}),
  };
}

function consumerStatus(name: string, fact: ConsumerFact | null | NoAnswer | undefined): ConsumerStatus {
  if (isNoAnswer(fact)) return { name, state: NO_ANSWER };
  return fact ? { name, state: "ok", ...fact } : { name, state: NOT_CREATED };
}

function keyTokens(p: PresenceFact): string[] {
  return p.key.split(".");
}

function roleOf(p: PresenceFact): string {
  return typeof p.value.role === "string" ? p.value.role : keyTokens(p)[0]!;
}

/** Key `actor.<name>.<replica>`; the value's `name` wins when present. */
function actorNameOf(p: PresenceFact): string | undefined {
  return typeof p.value.name === "string" ? p.value.name : keyTokens(p)[1];
}

function replicaOf(p: PresenceFact, now: number): ReplicaStatus {
  const v = p.value;
  const tokens = keyTokens(p);
  // keys are `<role>.<name>.<replica>` (or `router.<replica>`): the replica id is the last token
  const id = typeof v.replica === "string" ? v.replica : tokens[tokens.length - 1] || p.key;
  return {
    id,
    ...(typeof v.host === "string" ? { host: v.host } : {}),
    ...(typeof v.pid === "number" ? { pid: v.pid } : {}),
    ...(typeof v.inFlight === "number" ? { inFlight: v.inFlight } : {}),
    ...(typeof v.configRevision === "number" ? { configRevision: v.configRevision } : {}),
    ageMs: Math.max(0, now - p.at.getTime()),
  };
}

const n = (v: number | null | undefined) => (v === null || v === undefined ? "-" : String(v));

/** Human-readable status: one table of actors, then router, indexer and store lines. */
export function renderStatus(r: StatusReport): string {
  const rows: string[][] = [["ACTOR", "REPLICAS", "PROCESSES", "LAG", "IN-FLIGHT", "REDELIVERED", "DLQ", "CONSUMERS"]];
  for (const a of r.actors) {
    const missing = a.consumers.filter((c) => c.state === NOT_CREATED).length;
    const consumers = a.consumers.some((c) => c.state === NO_ANSWER)
      ? NO_ANSWER
      : missing === 0
        ? "ok"
        : missing === a.consumers.length
          ? NOT_CREATED
          : `${missing}/${a.consumers.length} ${NOT_CREATED}`;
    // no answer from the presence bucket: how many run is unknown, not 0
    const presenceUnknown = r.presence === NO_ANSWER;
    rows.push([
      a.name,
      presenceUnknown ? "?" : String(a.replicas.live),
      presenceUnknown ? "?" : String(a.replicas.processes),
      n(a.lag),
      n(a.inFlight),
      n(a.redeliveries),
      a.dlq === null ? (r.deadLetter === NO_ANSWER ? "?" : "-") : String(a.dlq),
      consumers,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = [`jetbus status at ${r.at}`, ""];
  if (r.actors.length === 0) lines.push("no actors configured");
  else
    lines.push(
      ...rows.map((row) =>
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      ),
    );
  lines.push("");
  const rev = r.router.configRevisionUnknown
    ? `config revision unknown (${NO_ANSWER})`
    : r.router.latestConfigRevision === null
      ? "no routing config stored"
      : `config revision ${r.router.latestConfigRevision}`;
  lines.push(`router:  ${r.router.replicas.length} live replica(s), ${rev}, lag ${consumerText(r.router.consumer)}`);
  for (const rep of r.router.replicas) {
    const stale = r.router.staleReplicas.includes(rep.id) ? "  (STALE config)" : "";
    lines.push(
      `  ${rep.id}${rep.host ? ` on ${rep.host}` : ""}: config revision ${rep.configRevision ?? "?"}, heartbeat ${(rep.ageMs / 1000).toFixed(1)}s ago${stale}`,
    );
  }
  const lane = r.router.orderedLane;
  if (lane)
    lines.push(
      `  ordered lane: ${lane.holder ? `held by ${lane.holder}` : "no holder (a standby takes over within ~10s)"}, lag ${consumerText(lane.consumer)}`,
    );
  // routers index as they route (0.3); a durable of the indexer before that shows while an upgrade is under way
  lines.push(
    r.indexer.consumer.state === "ok"
      ? `indexer: lag ${consumerText(r.indexer.consumer)} (the durable of jetbus before 0.3; the next router that indexes retires it)`
      : r.indexer.consumer.state === NO_ANSWER
        ? `indexer: lag ${consumerText(r.indexer.consumer)}`
        : "indexer: written by the routers as they route (lag: the router's)",
  );
  const noAnswer = `${NO_ANSWER} in ${seconds(r.unanswered?.waitedMs ?? 0)} (leader election?)`;
  lines.push(
    r.store.state === "ok"
      ? `store:   ${r.store.stream}: ${r.store.messages} events, last seq ${r.store.lastSeq}, ${r.store.bytes} bytes`
      : `store:   ${r.store.stream}: ${r.store.state === NO_ANSWER ? noAnswer : NOT_CREATED}`,
  );
  if (r.nats) lines.push(natsLine(r.nats));
  // a null count is "stream not created" unless that stream got no answer
  const asideText = (v: number | null, stream: string) => (v === null && r.unanswered?.parts.includes(`stream ${stream}`) ? "?" : n(v));
  if (r.setAside)
    lines.push(
      `set aside: ${asideText(r.setAside.quarantined, Streams.Quarantine)} quarantined (jetbus quarantine list), ${asideText(r.setAside.unrouted, Streams.Unrouted)} unrouted (jetbus unrouted list)`,
    );
  const missing = [
    ["inbox stream", r.inbox],
    ["dead-letter stream", r.deadLetter],
    ["presence bucket", r.presence],
  ]
    .filter(([, s]) => s === NOT_CREATED)
    .map(([w]) => w);
  if (missing.length) lines.push(`${NOT_CREATED}: ${missing.join(", ")}`);
  if (r.unanswered) lines.push(`${noAnswer}: ${r.unanswered.parts.join(", ")}; the rest is as read`);
  return lines.join("\n") + "\n";
}

/** `nats:    connected to n2; cluster c1: n1 DOWN (no word for 12.3 s), n2 ok, n3 ok` */
function natsLine(n: NatsStatus): string {
  const on = n.connectedTo ? `connected to ${n.connectedTo}` : "connected";
  const without = n.unanswered?.length ? ` (without ${n.unanswered.join(", ")}: ${NO_ANSWER})` : "";
  if (n.nodes.length === 0 && n.unanswered?.length) return `nats:    ${on}; nodes unknown${without}`;
  // a single server (no cluster): its streams' leader is the server itself
  if (!n.cluster && n.nodes.every((x) => x.name === n.connectedTo && x.state === "ok")) return `nats:    ${on}`;
  const nodes = n.nodes.map((x) =>
    x.state === "down"
      ? `${x.name} DOWN (no word for ${((x.silentMs ?? 0) / 1000).toFixed(1)} s)`
      : `${x.name} ${x.state === "behind" ? "catching up" : "ok"}`,
  );
  return `nats:    ${on}; ${n.cluster ? `cluster ${n.cluster}: ` : ""}${nodes.join(", ")}${without}`;
}

function consumerText(c: ConsumerStatus): string {
  if (c.state === NO_ANSWER) return `? (consumer ${c.name}: ${NO_ANSWER})`;
  return c.state === "ok"
    ? `${c.pending} pending, ${c.ackPending} in flight, ${c.redelivered} redelivered`
    : `- (consumer ${c.name} ${NOT_CREATED})`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
