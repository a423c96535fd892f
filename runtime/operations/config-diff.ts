import type { JetbusConfig } from "../config/types.ts";

/** What differs between the live config revision and a config file, in the parts a live revision carries (actors, routes). */
export type ConfigDiff = Readonly<{
  actorsAdded: string[];
  actorsRemoved: string[];
  actorsChanged: string[];
  rulesAdded: string[];
  rulesRemoved: string[];
  rulesChanged: string[];
  /** [live, file] when the routing mode differs. */
  mode?: readonly [string, string];
}>;

/** JSON with object keys sorted: two configs equal in content compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function byName<T extends { name?: string }>(items: readonly T[], fallback: (i: number) => string): Map<string, string> {
  return new Map(items.map((item, i) => [item.name ?? fallback(i), canonical(item)]));
}

function compare(live: Map<string, string>, file: Map<string, string>): { added: string[]; removed: string[]; changed: string[] } {
  return {
    added: [...file.keys()].filter((k) => !live.has(k)),
    removed: [...live.keys()].filter((k) => !file.has(k)),
    changed: [...file.keys()].filter((k) => live.has(k) && live.get(k) !== file.get(k)),
  };
}

/** Both configs as validated (defaults filled in), so a default written out and one left implicit compare equal. */
export function configDiff(live: JetbusConfig, file: JetbusConfig): ConfigDiff {
  const actors = compare(
    byName(live.actors, (i) => `#${i}`),
    byName(file.actors, (i) => `#${i}`),
  );
  const rules = compare(
    byName(live.routes.rules, (i) => `rule #${i}`),
    byName(file.routes.rules, (i) => `rule #${i}`),
  );
  // rule order matters in first-match mode and for which transform wins: an order change is a change
  const liveOrder = live.routes.rules.map((r, i) => r.name ?? `rule #${i}`).join("\u0000");
  const fileOrder = file.routes.rules.map((r, i) => r.name ?? `rule #${i}`).join("\u0000");
  const reordered = rules.added.length === 0 && rules.removed.length === 0 && liveOrder !== fileOrder;
  return {
    actorsAdded: actors.added,
    actorsRemoved: actors.removed,
    actorsChanged: actors.changed,
    rulesAdded: rules.added,
    rulesRemoved: rules.removed,
    rulesChanged: reordered ? [...new Set([...rules.changed, "(rule order)"])] : rules.changed,
    mode: live.routes.mode !== file.routes.mode ? [live.routes.mode, file.routes.mode] : undefined,
  };
}

export function isEmptyDiff(d: ConfigDiff): boolean {
  return (
    !d.mode && [d.actorsAdded, d.actorsRemoved, d.actorsChanged, d.rulesAdded, d.rulesRemoved, d.rulesChanged].every((l) => l.length === 0)
  );
}

/** One line per kind of change, e.g. `actors: + audit, ~ welcome` / `rules: - old-rule`. */
export function renderConfigDiff(d: ConfigDiff): string[] {
  const part = (label: string, added: string[], removed: string[], changed: string[]) => {
    const items = [...added.map((n) => `+ ${n}`), ...removed.map((n) => `- ${n}`), ...changed.map((n) => `~ ${n}`)];
    return items.length ? [`${label}: ${items.join(", ")}`] : [];
  };
  return [
    ...part("actors", d.actorsAdded, d.actorsRemoved, d.actorsChanged),
    ...part("rules", d.rulesAdded, d.rulesRemoved, d.rulesChanged),
    ...(d.mode ? [`routes.mode: ${d.mode[0]} -> ${d.mode[1]}`] : []),
  ];
}
