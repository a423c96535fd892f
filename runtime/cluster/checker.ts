/**
 * A consistency checker in the style of Jepsen's queue workload: from what publishers were told
 * (acks), what the store holds and what each actor handled, it counts what was lost, duplicated,
 * reordered or made up. Pure functions: reading the inputs is checker-input.ts.
 */

/** One acknowledged publish, in ack order (per publisher). `key` orders events; `to` names the actors it must reach; `at` = ack time (ms). */
export type AckedRecord = Readonly<{ id: string; key?: string; to?: readonly string[]; at?: number }>;
/** One message of the store, in store order (`seq` ascending when given). */
export type StoredRecord = Readonly<{ id: string; seq?: number }>;
/** One handling of an event by an actor, in handling order; `pid` and `at` (ms) place it for the duplicate windows. */
export type SeenRecord = Readonly<{ actor: string; id: string; pid?: number; at?: number }>;

export type CheckInput = Readonly<{
  acked: readonly AckedRecord[];
  /** Omitted: only the actors are checked. */
  stored?: readonly StoredRecord[];
  seen: readonly SeenRecord[];
  /**
   * Actors whose duplicates are expected (at-least-once, not idempotent): reported, not failed.
   * Actors not listed must have handled each event once.
   */
  duplicatesAllowed?: readonly string[];
  /** Actors that promise no order: out-of-order is reported, not failed. */
  unordered?: readonly string[];
  /** Examples kept per anomaly. */
  examples?: number;
}>;

export type Counts = {
  /** Events that had to be there: acked (store), or acked and routed to the actor. */
  expected: number;
  /** Expected and present at least once. */
  ok: number;
  /** Expected and never present. */
  lost: number;
  /** Events present more than once (each counted once); `extra` counts the surplus copies. */
  duplicated: number;
  extra: number;
  /** Events that came before an event of the same key acked earlier. */
  outOfOrder: number;
  /** Present though never acked (for actors: also not in the store). A made-up event. */
  unexpected: number;
  /** Present, not acked, but in the store: a publish whose ack was lost. Not a fault. */
  recovered: number;
};

export type Target = Counts & {
  /** "store" or the actor's name. */
  name: string;
  valid: boolean;
  examples: { lost: string[]; duplicated: string[]; outOfOrder: string[]; unexpected: string[] };
};

export type CheckResult = Readonly<{ valid: boolean; targets: Target[] }>;

export const STORE_TARGET = "store";

type OrderIndex = Map<string, { key: string; index: number }>;

/** Position of each acked id in the ack order of its key. */
function ackIndex(acked: readonly AckedRecord[]): OrderIndex {
  const perKey = new Map<string, number>();
  const out = new Map<string, { key: string; index: number }>();
  for (const a of acked) {
    if (out.has(a.id)) continue; // a publisher that logs a retried ack twice: the first ack counts
    const key = a.key ?? "";
    const index = perKey.get(key) ?? 0;
    perKey.set(key, index + 1);
    out.set(a.id, { key, index });
  }
  return out;
}

/**
 * Position of each acked id in the store order of its key: what an ordered actor promises to
 * follow. Ack order can differ from it when a publish is retried (its first attempt stored, the
 * ack lost, a later event of the key acked before the retry's duplicate ack).
 */
function storeIndex(acks: OrderIndex, stored: readonly StoredRecord[]): OrderIndex {
  const out: OrderIndex = new Map();
  for (const s of stored) {
    const a = acks.get(s.id);
    if (a && s.seq !== undefined && !out.has(s.id)) out.set(s.id, { key: a.key, index: s.seq });
  }
  return out;
}

/**
 * Judges one ordered list of ids (the store, or one actor's handlings) against the ids it had to
 * contain. Order: walking the list, an event whose ack index (within its key) is below the
 * highest already met for that key came out of order. Only first occurrences count for order.
 */
function judge(
  name: string,
  ids: readonly string[],
  expected: ReadonlySet<string>,
  acks: OrderIndex,
  known: ReadonlySet<string>,
  n: number,
  order: OrderIndex = acks,
): Target {
  const count = new Map<string, number>();
  const highest = new Map<string, number>();
  const ex = { lost: [] as string[], duplicated: [] as string[], outOfOrder: [] as string[], unexpected: [] as string[] };
  const keep = (list: string[], id: string) => list.length < n && list.push(id);
  let outOfOrder = 0,
    unexpected = 0,
    recovered = 0;
  for (const id of ids) {
    const c = (count.get(id) ?? 0) + 1;
    count.set(id, c);
    if (c > 1) continue;
    if (!acks.has(id)) {
      if (known.has(id)) recovered++;
      else (unexpected++, keep(ex.unexpected, id));
      continue;
    }
    const pos = order.get(id);
    if (!pos) continue; // acked but not in the store: counted lost there, no order to judge
    const top = highest.get(pos.key) ?? -1;
    if (pos.index < top) (outOfOrder++, keep(ex.outOfOrder, id));
    else highest.set(pos.key, pos.index);
  }
  let ok = 0,
    lost = 0,
    duplicated = 0,
    extra = 0;
  for (const id of expected) {
    if (count.has(id)) ok++;
    else (lost++, keep(ex.lost, id));
  }
  for (const [id, c] of count) if (c > 1) (duplicated++, (extra += c - 1), keep(ex.duplicated, id));
  return { name, expected: expected.size, ok, lost, duplicated, extra, outOfOrder, unexpected, recovered, valid: true, examples: ex };
}

export function check(input: CheckInput): CheckResult {
  const n = input.examples ?? 5;
  const acks = ackIndex(input.acked);
  const ackedIds = new Set(acks.keys());
  const stored = input.stored ? [...input.stored].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0)) : undefined;
  // what may legitimately exist: acked, or in the store (acks can be lost; the event is still real)
  const known = new Set<string>([...ackedIds, ...(stored ?? []).map((s) => s.id)]);
  const targets: Target[] = [];
  if (stored) {
    const t = judge(
      STORE_TARGET,
      stored.map((s) => s.id),
      ackedIds,
      acks,
      known,
      n,
    );
    t.valid = t.lost === 0 && t.duplicated === 0 && t.unexpected === 0 && t.outOfOrder === 0;
    targets.push(t);
  }
  // actors follow the store's order when the store was read, else the ack order
  const order = stored ? storeIndex(acks, stored) : acks;
  const actors = new Set<string>();
  for (const a of input.acked) for (const to of a.to ?? []) actors.add(to);
  for (const s of input.seen) actors.add(s.actor);
  for (const actor of [...actors].sort()) {
    const expected = new Set(input.acked.filter((a) => a.to?.includes(actor)).map((a) => a.id));
    const handled = input.seen.filter((s) => s.actor === actor).map((s) => s.id);
    const t = judge(actor, handled, expected, acks, known, n, order);
    const dupOk = input.duplicatesAllowed?.includes(actor) ?? false;
    const orderOk = input.unordered?.includes(actor) ?? false;
    t.valid = t.lost === 0 && t.unexpected === 0 && (dupOk || t.duplicated === 0) && (orderOk || t.outOfOrder === 0);
    targets.push(t);
  }
  return { valid: targets.every((t) => t.valid), targets };
}

/** A fixed-width table, one row per target, and a verdict line (Jepsen prints `:valid? true`). */
export function formatCheck(result: CheckResult): string {
  const cols = ["expected", "ok", "lost", "duplicated", "outOfOrder", "unexpected", "recovered"] as const;
  const heads = ["expected", "ok", "lost", "duplicated", "out-of-order", "unexpected", "recovered"];
  const width = Math.max(6, ...result.targets.map((t) => t.name.length));
  const lines = [["target".padEnd(width), ...heads.map((h) => h.padStart(12)), "  valid"].join(" ")];
  for (const t of result.targets) {
    lines.push([t.name.padEnd(width), ...cols.map((c) => String(t[c]).padStart(12)), `  ${t.valid}`].join(" "));
    for (const [what, ids] of Object.entries(t.examples)) if (ids.length) lines.push(`${" ".repeat(width)}   ${what}: ${ids.join(", ")}`);
  }
  lines.push(`valid? ${result.valid}`);
  return lines.join("\n") + "\n";
}
