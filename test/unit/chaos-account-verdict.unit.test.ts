// The chaos run's aggregate verdict (chaos/account-verdict.ts), pure: stored events of accounts
// against the commanders' records. A run passes only when every check holds; each broken case
// below must fail the check it names, and only that one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decisionOf, type AccountCommand } from "../../chaos/account.ts";
import { accountVerdict, CHECKS, type AccountRead, type CommandRecord, type StoredAccountEvent } from "../../chaos/account-verdict.ts";

const deposit = (amount: number): AccountCommand => ({ type: "Deposit", amount });
const withdraw = (amount: number): AccountCommand => ({ type: "Withdraw", amount });

const sent = (cmd: string, entity: string, command: AccountCommand): CommandRecord => ({ kind: "sent", cmd, entity, command });
const acked = (cmd: string, entity: string, seq = 1, over: Partial<{ conflicts: number; tries: number }> = {}): CommandRecord => ({
  kind: "acked",
  cmd,
  entity,
  seq,
  duplicate: false,
  conflicts: over.conflicts ?? 0,
  tries: over.tries ?? 1,
});
const refused = (cmd: string, entity: string, tries = 1): CommandRecord => ({ kind: "refused", cmd, entity, reason: "balance", tries });

/** The events `command` stores, tagged with its id, from store sequence `seq` on. */
function stored(cmd: string, command: AccountCommand, seq: number): StoredAccountEvent[] {
  return decisionOf(command).map((e, i) => ({ seq: seq + i, command: cmd, type: e.type, data: e.data }));
}

/** An account read whose loaded state is the fold of `events` (the runtime agreeing with the store). */
function account(id: string, events: StoredAccountEvent[], loaded?: { balance: number; version: number }): AccountRead {
  let balance = 0;
  for (const e of events) {
    const d = e.data as { amount?: number; fee?: number };
    balance += e.type === "Deposited" ? d.amount! : -(d.amount ?? d.fee!);
  }
  return { id, events, loaded: { state: { balance: loaded?.balance ?? balance }, version: loaded?.version ?? events.length } };
}

// a: +20, -5 (fee 1), a refused -30, an unanswered +7 that was stored; b: +3, an unanswered -2 never stored
const records: CommandRecord[] = [
  sent("c1", "a", deposit(20)),
  acked("c1", "a", 1),
  sent("c2", "b", deposit(3)),
  acked("c2", "b", 2, { conflicts: 2 }),
  sent("c3", "a", withdraw(5)),
  acked("c3", "a", 4, { tries: 3 }),
  sent("c4", "a", withdraw(30)),
  refused("c4", "a", 2),
  sent("c5", "a", deposit(7)),
  sent("c6", "b", withdraw(2)),
];
const good = (): AccountRead[] => [
  account("a", [...stored("c1", deposit(20), 1), ...stored("c3", withdraw(5), 3), ...stored("c5", deposit(7), 6)]),
  account("b", stored("c2", deposit(3), 2)),
];

test("every check holds: valid, with the commands counted", () => {
  const v = accountVerdict(good(), records);
  assert.equal(v.failed, []);
  assert.is(v.valid, true);
  assert.is(v.entities, 2);
  assert.is(v.events, 5);
  assert.equal(v.commands, { sent: 6, acked: 3, refused: 1, unanswered: 2, conflicts: 2, retried: 2 });
  assert.equal(v.counts, Object.fromEntries(CHECKS.map((c) => [c, 0])));
});

/** Fails exactly `check` (and `also`, when the broken case shows in the state too). */
function failsOnly(reads: AccountRead[], recs: CommandRecord[], check: string, also: string[] = []) {
  const v = accountVerdict(reads, recs);
  assert.is(v.valid, false);
  assert.equal(new Set(v.failed), new Set([check, ...also]));
  assert.ok((v.examples as Record<string, unknown[]>)[check]!.length > 0, `an example of ${check}`);
  return v;
}

test("an acked command with no events stored, or half of its decision: lost (and the state is off its commands)", () => {
  const [a, b] = good();
  const v = failsOnly([a!, account("b", [])], records, "lost", ["state"]);
  assert.equal(v.examples.lost, [{ entity: "b", cmd: "c2", seq: undefined, detail: "acked, 0 of its 1 events stored" }]);
  const half = a!.events.filter((e) => !(e.command === "c3" && e.type === "FeeCharged"));
  failsOnly([account("a", half), b!], records, "lost", ["state"]);
});

test("an acked command stored twice: duplicated", () => {
  const [a, b] = good();
  const v = failsOnly([account("a", [...a!.events, ...stored("c1", deposit(20), 9)]), b!], records, "duplicated", ["state"]);
  assert.is(v.counts.duplicated, 1);
});

test("events stored for a refused command: refused", () => {
  const [a, b] = good();
  const events = [...a!.events, ...stored("c4", withdraw(30), 9)];
  failsOnly([account("a", events), b!], records, "refused", ["state", "overdrawn"]);
});

test("the runtime's load differs from the fold of the stored events: state", () => {
  const [a, b] = good();
  failsOnly([account("a", [...a!.events], { balance: 22, version: 4 }), b!], records, "state");
  failsOnly([account("a", [...a!.events], { balance: 21, version: 3 }), b!], records, "state");
});

test("a withdrawal decided on a stale state takes the balance below zero: overdrawn", () => {
  const recs = [...records, sent("c7", "b", withdraw(2)), acked("c7", "b", 3), sent("c8", "b", withdraw(2)), acked("c8", "b", 5)];
  const [a] = good();
  const b = account("b", [...stored("c2", deposit(3), 2), ...stored("c7", withdraw(2), 3), ...stored("c8", withdraw(2), 5)]);
  const v = failsOnly([a!, b], recs, "overdrawn");
  assert.equal(v.examples.overdrawn?.[0], { entity: "b", seq: 5, detail: "balance -2 after Withdrawn" });
});

test("an unanswered command with half its decision stored: partial; an event of no command or another account: unknown", () => {
  const [a, b] = good();
  const partial = account("b", [...b!.events, stored("c6", withdraw(2), 7)[0]!]);
  failsOnly([a!, partial], records, "partial", ["state"]);
  const stray = account("b", [...b!.events, { seq: 9, type: "Deposited", data: { amount: 1 } }]);
  failsOnly([a!, stray], records, "unknown", ["state"]);
  const elsewhere = account("b", [...b!.events, ...stored("c1", deposit(20), 9)]);
  failsOnly([a!, elsewhere], records, "unknown", ["state"]);
});

test("stored events that are not what their command decides: altered", () => {
  const [a, b] = good();
  const changed = b!.events.map((e) => ({ ...e, data: { amount: 4 } }));
  failsOnly([a!, account("b", changed)], records, "altered", ["state"]);
});

test("no command acked: idle, whatever else holds", () => {
  const v = accountVerdict([account("a", [])], [sent("c1", "a", deposit(1))]);
  assert.equal(v.failed, ["idle"]);
  assert.is(v.valid, false);
});

test.run();
