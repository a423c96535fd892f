import type { JetbusConfig } from "../config/types.ts";
import { compilePattern, parsePattern } from "../events/type-pattern.ts";
import { ruleName } from "../config/routes/check.ts";

export const NodeKind = { Type: "type", Rule: "rule", Actor: "actor", Unrouted: "unrouted", Quarantine: "quarantine" } as const;
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

export type FlowNode = Readonly<{ id: string; kind: NodeKind; label: string; detail?: string; count?: number; rate?: number }>;
export type FlowEdge = Readonly<{ from: string; to: string; rate: number; count?: number }>;
export type FlowGraph = Readonly<{ nodes: readonly FlowNode[]; edges: readonly FlowEdge[] }>;

/** What the graph needs besides the config: counts and rates per type, per (rule, actor) copy, unrouted and quarantined. */
export type FlowNumbers = Readonly<{
  typeCounts: Readonly<Record<string, number>>;
  typeRate(type: string): number;
  copyRate(rule: string, actor: string): number;
  copyTotal(rule: string, actor: string): number;
  unroutedCounts: Readonly<Record<string, number>>;
  unroutedRate(type: string): number;
  quarantined: number | null;
  quarantinedRate: number;
}>;

export const nodeId = {
  type: (t: string) => `type:${t}`,
  rule: (r: string) => `rule:${r}`,
  actor: (a: string) => `actor:${a}`,
  unrouted: "unrouted",
  quarantine: "quarantine",
} as const;

function describeMatch(m: JetbusConfig["routes"]["rules"][number]["match"]): string {
  return [m.type ? `type ${m.type}` : "any type", m.source ? `source ${m.source}` : "", m.data ? "data filter" : ""]
    .filter(Boolean)
    .join(", ");
}

/**
 * Pure: event types -> rules -> actors from one config revision. Types are those stored plus
 * those named exactly by a rule; a type feeds a rule when the rule's type pattern matches it
 * (a rule that also filters on source or data gets a subset: its edge shows the rate of the
 * copies it actually produced). Unrouted and quarantined flows are nodes of their own.
 */
export function buildFlowGraph(config: JetbusConfig, n: FlowNumbers): FlowGraph {
  const rules = config.routes.rules.map((r, i) => ({
    rule: r,
    name: ruleName(r, i),
    matches: compilePattern(parsePattern(r.match.type ?? "*")),
    filtered: !!(r.match.source || r.match.data),
  }));
  const named = config.routes.rules.map((r) => r.match.type).filter((t): t is string => !!t && !/[*>]/.test(t));
  const types = [...new Set([...Object.keys(n.typeCounts), ...Object.keys(n.unroutedCounts), ...named])].sort();
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  for (const t of types)
    nodes.push({ id: nodeId.type(t), kind: NodeKind.Type, label: t, count: n.typeCounts[t] ?? 0, rate: n.typeRate(t) });
  for (const r of rules) {
    const copies = r.rule.to.map((a) => n.copyRate(r.name, a));
    // events through a rule: each event yields one copy per target, so the busiest target's rate
    const rate = copies.length ? Math.max(...copies) : 0;
    nodes.push({ id: nodeId.rule(r.name), kind: NodeKind.Rule, label: r.name, detail: describeMatch(r.rule.match), rate });
    for (const t of types)
      if (r.matches(t)) edges.push({ from: nodeId.type(t), to: nodeId.rule(r.name), rate: r.filtered ? rate : n.typeRate(t) });
    for (const a of r.rule.to)
      edges.push({ from: nodeId.rule(r.name), to: nodeId.actor(a), rate: n.copyRate(r.name, a), count: n.copyTotal(r.name, a) });
  }
  for (const a of config.actors)
    nodes.push({
      id: nodeId.actor(a.name),
      kind: NodeKind.Actor,
      label: a.name,
      ...(a.ordered ? { detail: `ordered by ${a.ordered.key}` } : {}),
    });
  const unroutedTotal = Object.values(n.unroutedCounts).reduce((s, v) => s + v, 0);
  nodes.push({
    id: nodeId.unrouted,
    kind: NodeKind.Unrouted,
    label: "unrouted",
    count: unroutedTotal,
    rate: types.reduce((s, t) => s + n.unroutedRate(t), 0),
  });
  // a type no rule matches flows to unrouted even before its first event does
  for (const t of types) {
    if (n.unroutedCounts[t] === undefined && rules.some((r) => r.matches(t))) continue;
    edges.push({ from: nodeId.type(t), to: nodeId.unrouted, rate: n.unroutedRate(t), count: n.unroutedCounts[t] ?? 0 });
  }
  nodes.push({
    id: nodeId.quarantine,
    kind: NodeKind.Quarantine,
    label: "quarantined",
    count: n.quarantined ?? 0,
    rate: n.quarantinedRate,
  });
  return { nodes, edges };
}
