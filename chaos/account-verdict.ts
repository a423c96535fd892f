// The aggregate's verdict, pure: each account's stored events against the commands the commanders
// sent and the answers they got (chaos/commander.ts). Checks, each named in `failed` when it fails:
// - state: the runtime's load (snapshot + events after it) equals the fold of every stored event,
//   and equals the fold of the commands whose events are stored (acked ones, and unanswered ones
//   that got stored); `overdrawn`: no balance below zero anywhere in the fold (a decision on a
//   stale state that the server's guard let through);
// - lost / duplicated: every acked command's events are stored exactly once (by command id);
// - refused: no event stored for a command decide refused;
// - partial: no command stored with part of its decision (all or none);
// - altered / unknown: stored events are what their command decides, and belong to a sent command;
// - idle: at least one command was acked (a workload that never ran proves nothing).
import { decisionOf, evolveAccount, type AccountCommand, type AccountState } from "./account.ts";

/** One line of commands-NAME.jsonl: a command first tried, or its answer. */
export type CommandRecord =
  | Readonly<{ kind: "sent"; cmd: string; entity: string; command: AccountCommand }>
  | Readonly<{ kind: "acked"; cmd: string; entity: string; seq: number; duplicate: boolean; conflicts: number; tries: number }>
  | Readonly<{ kind: "refused"; cmd: string; entity: string; reason: string; tries: number }>;

/** An account's event as stored: its store sequence, the command id header, type and data. */
export type StoredAccountEvent = Readonly<{ seq: number; command?: string; type: string; data: unknown }>;

/** What the verdict reads of an account: its stored events in order, and the state the runtime loads. */
export type AccountRead = Readonly<{
  id: string;
  events: readonly StoredAccountEvent[];
  loaded: Readonly<{ state: AccountState; version: number }>;
}>;

/** A check that failed for one command or account, as an example. */
export type Finding = Readonly<{ entity: string; cmd?: string; seq?: number; detail: string }>;

export const CHECKS = ["state", "overdrawn", "lost", "duplicated", "refused", "partial", "altered", "unknown", "idle"] as const;
export type Check = (typeof CHECKS)[number];

export type AccountVerdict = {
  entities: number;
  events: number;
  commands: { sent: number; acked: number; refused: number; unanswered: number; conflicts: number; retried: number };
  /** Per check: how many commands or accounts failed it. */
  counts: Record<Check, number>;
  /** Up to `examples` findings per failed check. */
  examples: Partial<Record<Check, Finding[]>>;
  failed: Check[];
  valid: boolean;
};

type Command = { entity: string; command?: AccountCommand; answer?: "acked" | "refused" };

const sameEvent = (a: Readonly<{ type: string; data: unknown }>, b: Readonly<{ type: string; data: unknown }>) =>
  a.type === b.type && JSON.stringify(a.data) === JSON.stringify(b.data);

export function accountVerdict(reads: readonly AccountRead[], records: readonly CommandRecord[], examples = 5): AccountVerdict {
  const counts = Object.fromEntries(CHECKS.map((c) => [c, 0])) as Record<Check, number>;
  const ex: Partial<Record<Check, Finding[]>> = {};
  const fail = (check: Check, f: Finding) => {
    counts[check]++;
    const list = (ex[check] ??= []);
    if (list.length < examples) list.push(f);
  };

  const commands = new Map<string, Command>();
  let conflicts = 0,
    retried = 0;
  for (const r of records) {
    const c = commands.get(r.cmd) ?? { entity: r.entity };
    commands.set(r.cmd, c);
    if (r.kind === "sent") c.command = r.command;
    else {
      c.answer = r.kind;
      if (r.tries > 1) retried++;
      if (r.kind === "acked") conflicts += r.conflicts;
    }
  }

  let events = 0;
  const byCommand = new Map<string, StoredAccountEvent[]>();
  for (const a of reads) {
    events += a.events.length;
    let folded: AccountState = { balance: 0 };
    for (const e of a.events) {
      folded = evolveAccount(folded, e);
      if (folded.balance < 0) fail("overdrawn", { entity: a.id, seq: e.seq, detail: `balance ${folded.balance} after ${e.type}` });
      const c = e.command === undefined ? undefined : commands.get(e.command);
      if (!c?.command || c.entity !== a.id) {
        fail("unknown", { entity: a.id, cmd: e.command, seq: e.seq, detail: `${e.type} of no command sent to this account` });
        continue;
      }
      const list = byCommand.get(e.command!) ?? [];
      byCommand.set(e.command!, list);
      list.push(e);
    }
    // the fold of the commands whose events are stored, each once, as the commanders sent them
    let fromCommands: AccountState = { balance: 0 };
    for (const [cmd, c] of commands)
      if (c.entity === a.id && c.command && c.answer !== "refused" && (c.answer === "acked" || byCommand.has(cmd)))
        for (const e of decisionOf(c.command)) fromCommands = evolveAccount(fromCommands, e);
    const { loaded } = a;
    if (loaded.state.balance !== folded.balance || loaded.version !== a.events.length || fromCommands.balance !== folded.balance)
      fail("state", {
        entity: a.id,
        detail: `loaded balance ${loaded.state.balance} at version ${loaded.version}; fold of ${a.events.length} stored events ${folded.balance}; fold of the stored commands ${fromCommands.balance}`,
      });
  }

  for (const [cmd, c] of commands) {
    if (!c.command) continue; // an answer without its sent line cannot happen: the line is written first
    const stored = byCommand.get(cmd) ?? [];
    const decision = decisionOf(c.command);
    const size = decision.length;
    const f = (check: Check, detail: string) => fail(check, { entity: c.entity, cmd, seq: stored[0]?.seq, detail });
    if (stored.some((e, i) => !sameEvent(e, decision[i % size]!)))
      f("altered", `stored ${JSON.stringify(stored.map((e) => [e.type, e.data]))} for ${JSON.stringify(c.command)}`);
    if (c.answer === "refused") {
      if (stored.length > 0) f("refused", `refused, yet ${stored.length} events stored`);
    } else if (c.answer === "acked" && stored.length < size) f("lost", `acked, ${stored.length} of its ${size} events stored`);
    else if (stored.length > size) f("duplicated", `${stored.length} events stored for a decision of ${size}`);
    else if (stored.length > 0 && stored.length < size) f("partial", `unanswered, ${stored.length} of its ${size} events stored`);
  }

  const answers = [...commands.values()];
  const acked = answers.filter((c) => c.answer === "acked").length;
  if (acked === 0) fail("idle", { entity: "-", detail: "no command was acked" });
  const failed = CHECKS.filter((c) => counts[c] > 0);
  return {
    entities: reads.length,
    events,
    commands: {
      sent: answers.filter((c) => c.command).length,
      acked,
      refused: answers.filter((c) => c.answer === "refused").length,
      unanswered: answers.filter((c) => c.command && !c.answer).length,
      conflicts,
      retried,
    },
    counts,
    examples: ex,
    failed,
    valid: failed.length === 0,
  };
}
