import { Consumers, Subjects } from "../topology.ts";
import {
  NOT_CREATED,
  type ActorStatus,
  type ConsumerFact,
  type ConsumerStatus,
  type PresenceFact,
  type ReplicaStatus,
  type StatusFacts,
  type StatusReport,
} from "./types.ts";

/** A heartbeat older than this is a replica that died without removing its entry (the KV TTL is ~10s). */
export const DEFAULT_STALE_AFTER_MS = 15_000;

/**
 * The durables one actor consumes from: `<actor>`, or `<actor>-p<k>` per partition for ordered
 * actors; a direct actor also `jetbus-direct-<actor>` on the event store.
 */
export function durablesOf(actor: Readonly<{ name: string; partitions?: number; direct?: boolean }>): string[] {
  if (actor.direct) return [Consumers.actor(actor.name), Consumers.direct(actor.name)];
  if (!actor.partitions) return [Consumers.actor(actor.name)];
  return Array.from({ length: actor.partitions }, (_, k) => Consumers.actorPartition(actor.name, k));
}

/** Pure: turns what was read from NATS into the status report. */
export function buildStatusReport(facts: StatusFacts, opts: { staleAfterMs?: number } = {}): StatusReport {
  const staleAfter = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const now = facts.at.getTime();
  const live = (facts.presence ?? []).filter((p) => now - p.at.getTime() <= staleAfter);
  const actors = facts.actors.map((a): ActorStatus => {
    const consumers = durablesOf(a).map((d) => consumerStatus(d, facts.inboxConsumers[d] ?? null));
    const existing = consumers.filter((c) => c.state === "ok");
    const sum = (k: keyof ConsumerFact) => (existing.length ? existing.reduce((n, c) => n + (c[k] ?? 0), 0) : null);
    const replicas = live.filter((p) => roleOf(p) === "actor" && actorNameOf(p) === a.name).map((p) => replicaOf(p, now));
    return {
      name: a.name,
      replicas: { live: replicas.length, desired: a.replicas, list: replicas },
      lag: sum("pending"),
      inFlight: sum("ackPending"),
      redeliveries: sum("redelivered"),
      dlq: facts.dlq === null ? null : (facts.dlq[Subjects.deadLetter(a.name)] ?? 0),
      consumers,
    };
  });
  const routers = live.filter((p) => roleOf(p) === "router").map((p) => replicaOf(p, now));
  const latest = facts.configRevision;
  const stale = latest === null ? [] : routers.filter((r) => r.configRevision !== undefined && r.configRevision < latest).map((r) => r.id);
  const store =
    "missing" in facts.store
      ? { stream: facts.store.stream, state: NOT_CREATED }
      : {
          stream: facts.store.stream,
          state: "ok" as const,
          messages: facts.store.messages,
          lastSeq: facts.store.lastSeq,
          bytes: facts.store.bytes,
        };
  return {
    at: facts.at.toISOString(),
    actors,
    router: {
      replicas: routers,
      latestConfigRevision: latest,
      staleReplicas: stale,
      consumer: consumerStatus(Consumers.router, facts.router),
      ...(facts.orderedRouter
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
    inbox: facts.inboxExists ? "ok" : NOT_CREATED,
    ...(facts.setAside ? { setAside: { quarantined: facts.setAside.quarantine, unrouted: facts.setAside.unrouted } } : {}),
    deadLetter: facts.dlq === null ? NOT_CREATED : "ok",
    presence: facts.presence === null ? NOT_CREATED : "ok",
  };
}

function consumerStatus(name: string, fact: ConsumerFact | null): ConsumerStatus {
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
  const rows: string[][] = [["ACTOR", "REPLICAS", "LAG", "IN-FLIGHT", "REDELIVERED", "DLQ", "CONSUMERS"]];
  for (const a of r.actors) {
    const missing = a.consumers.filter((c) => c.state !== "ok").length;
    const consumers =
      missing === 0 ? "ok" : missing === a.consumers.length ? NOT_CREATED : `${missing}/${a.consumers.length} ${NOT_CREATED}`;
    rows.push([
      a.name,
      `${a.replicas.live}/${a.replicas.desired}`,
      n(a.lag),
      n(a.inFlight),
      n(a.redeliveries),
      a.dlq === null ? "-" : String(a.dlq),
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
  const rev = r.router.latestConfigRevision === null ? "no routing config stored" : `config revision ${r.router.latestConfigRevision}`;
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
      : "indexer: written by the routers as they route (lag: the router's)",
  );
  lines.push(
    r.store.state === "ok"
      ? `store:   ${r.store.stream}: ${r.store.messages} events, last seq ${r.store.lastSeq}, ${r.store.bytes} bytes`
      : `store:   ${r.store.stream}: ${NOT_CREATED}`,
  );
  if (r.setAside)
    lines.push(
      `set aside: ${n(r.setAside.quarantined)} quarantined (jetbus quarantine list), ${n(r.setAside.unrouted)} unrouted (jetbus unrouted list)`,
    );
  const missing = [
    ["inbox stream", r.inbox],
    ["dead-letter stream", r.deadLetter],
    ["presence bucket", r.presence],
  ]
    .filter(([, s]) => s !== "ok")
    .map(([w]) => w);
  if (missing.length) lines.push(`${NOT_CREATED}: ${missing.join(", ")}`);
  return lines.join("\n") + "\n";
}

function consumerText(c: ConsumerStatus): string {
  return c.state === "ok"
    ? `${c.pending} pending, ${c.ackPending} in flight, ${c.redelivered} redelivered`
    : `- (consumer ${c.name} ${NOT_CREATED})`;
}
