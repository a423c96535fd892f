import type { DeadLetterFact, HandledFact, SetAsideFact, StoredEvent, TraceFacts, TraceNode, TraceTree } from "./types.ts";

function byStoreOrder(a: StoredEvent, b: StoredEvent): number {
  if (a.seq !== undefined && b.seq !== undefined) return a.seq - b.seq;
  return Date.parse(a.event.time) - Date.parse(b.event.time) || a.event.id.localeCompare(b.event.id);
}

function groupBy<T extends { eventId: string }>(items: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) m.set(it.eventId, [...(m.get(it.eventId) ?? []), it]);
  return m;
}

/**
 * Pure: the causal tree of one correlation. Children hang under the event named by their
 * causationid; an event whose cause is not among the events is a root (marked `missingCause`).
 * Duplicates (same id stored twice) keep the first copy; causation cycles cannot hide events.
 */
export function buildTraceTree(facts: TraceFacts): TraceTree {
  const seen = new Set<string>();
  const events = [...facts.events].sort(byStoreOrder).filter((e) => !seen.has(e.event.id) && seen.add(e.event.id));
  const ids = new Set(events.map((e) => e.event.id));
  const children = new Map<string, StoredEvent[]>();
  const roots: StoredEvent[] = [];
  for (const e of events) {
    const cause = e.event.causationid;
    if (cause && cause !== e.event.id && ids.has(cause)) children.set(cause, [...(children.get(cause) ?? []), e]);
    else roots.push(e);
  }
  const handled = groupBy<HandledFact>(facts.handled);
  const dead = groupBy<DeadLetterFact>(facts.deadLetters);
  const placed = new Set<string>();
  const build = (e: StoredEvent): TraceNode => {
    placed.add(e.event.id);
    const h = (handled.get(e.event.id) ?? []).sort((a, b) => a.actor.localeCompare(b.actor));
    const d = (dead.get(e.event.id) ?? []).sort((a, b) => a.seq - b.seq);
    const settled = new Set([...h.map((x) => x.actor), ...d.map((x) => x.actor)]);
    const cause = e.event.causationid;
    const aside = (facts.setAside ?? []).filter(
      (s: SetAsideFact) => (s.originSeq !== undefined && s.originSeq === e.seq) || s.eventId === e.event.id,
    );
    return {
      event: e.event,
      ...(e.seq !== undefined ? { seq: e.seq } : {}),
      handled: h,
      deadLetters: d,
      // set aside by the router: no actor was sent it, so none is waiting
      waiting: aside.length ? [] : (facts.routedTo?.[e.event.id] ?? []).filter((a) => !settled.has(a)),
      ...(aside.length ? { setAside: aside } : {}),
      ...(cause && cause !== e.event.id && !ids.has(cause) ? { missingCause: cause } : {}),
      children: (children.get(e.event.id) ?? []).filter((c) => !placed.has(c.event.id)).map(build),
    };
  };
  const tree = roots.map(build);
  // events inside a causation cycle have no root; show them anyway, first unplaced one as a root
  for (const e of events) if (!placed.has(e.event.id)) tree.push(build(e));
  const asideCount = new Set((facts.setAside ?? []).map((s) => s.eventId)).size;
  return {
    ...(asideCount ? { setAside: asideCount } : {}),
    correlationId: facts.correlationId,
    roots: tree,
    events: events.length,
    handled: facts.handled.filter((h) => ids.has(h.eventId)).length,
    deadLettered: facts.deadLetters.filter((d) => ids.has(d.eventId)).length,
  };
}

/** The tree as indented text, one event per line, with its handlings and dead letters beneath. */
export function renderTrace(t: TraceTree): string {
  const lines = [
    `correlation ${t.correlationId}: ${t.events} event(s), ${t.handled} handling(s), ${t.deadLettered} dead letter(s)${t.setAside ? `, ${t.setAside} set aside by the router` : ""}`,
  ];
  const walk = (node: TraceNode, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? "" : last ? "└─ " : "├─ ";
    const e = node.event;
    const seq = node.seq !== undefined ? ` #${node.seq}` : "";
    const orphan = node.missingCause ? `  (cause ${node.missingCause} not found)` : "";
    lines.push(`${prefix}${branch}${e.type} ${e.id}${seq}  ${e.time}  source=${e.source}${orphan}`);
    const inner = top ? "" : prefix + (last ? "   " : "│  ");
    const details = [
      ...node.handled.map(
        (h) =>
          `✓ ${h.actor} handled${h.at ? ` at ${h.at}` : ""}${h.attempts !== undefined ? ` after ${h.attempts} attempt(s)` : ""}${h.replica ? ` by ${h.replica}` : ""}`,
      ),
      ...node.deadLetters.map(
        (d) =>
          `✗ ${d.actor} dead-lettered at ${d.at}${d.attempts !== undefined ? ` after ${d.attempts} attempt(s)` : ""}${d.error ? `: ${d.error}` : ""}${d.errorCode ? ` [${d.errorCode}]` : ""} (JETBUS_DLQ #${d.seq})`,
      ),
      ...(node.setAside ?? []).map((s) =>
        s.kind === "quarantine"
          ? `⊘ quarantined, routed to no actor: ${s.reason ?? "?"} (JETBUS_QUARANTINE #${s.seq})`
          : `⊘ unrouted: no rule matched${s.revision ? ` in config revision ${s.revision}` : ""} (JETBUS_UNROUTED #${s.seq})`,
      ),
      ...node.waiting.map((a) => `… ${a} not handled yet`),
    ];
    const hasKids = node.children.length > 0;
    for (const d of details) lines.push(`${inner}${hasKids ? "│  " : "   "}${d}`);
    node.children.forEach((c, i) => walk(c, inner, i === node.children.length - 1, false));
  };
  t.roots.forEach((r) => walk(r, "", true, true));
  return lines.join("\n") + "\n";
}
