import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager, type StoredMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { startServer } from "../helpers/nats.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { ensureStore } from "../../runtime/store/stream.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { EventStore } from "../../runtime/store/queries.ts";
import { AggregateStore, defineAggregate, type Recorded } from "../../runtime/aggregate/mod.ts";
import { entityWire } from "../../runtime/aggregate/append.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { entitySubject } from "../../runtime/events/subjects.ts";
import { clearUpcasters, useUpcasters } from "../../runtime/events/versions/registry.ts";
import { AggregateConflictError, SchemaViolationError } from "../../runtime/errors.ts";
import { Buckets, JetbusHeaders, Streams } from "../../runtime/topology.ts";
import bankAccount, { CommandRefused, OVERDRAFT_FEE, type AccountEvent } from "../../examples/bank-account/bank-account.ts";
import upcasters from "../../examples/bank-account/upcasters.ts";

let env: Awaited<ReturnType<typeof startServer>>;
let aggregates: AggregateStore;
const extra: NatsConnection[] = [];

test.before(async () => {
  env = await startServer();
  await ensureStore(await jetstreamManager(env.nc), configFrom({}).store);
  aggregates = new AggregateStore(env.nc, { source: "test" });
});
test.after(async () => {
  clearUpcasters();
  for (const nc of extra) await nc.close();
  await env?.stop();
});

async function entityMessages(id: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(env.nc);
  const out: StoredMsg[] = [];
  for await (const m of await jsm.direct.getBatch(Streams.Events, { seq: 1, batch: 1000, next_by_subj: `events.@.BankAccount.${id}.>` }))
    out.push(m);
  return out;
}

test("execute: decides on the entity's state, stores its events on the entity's subjects as ordinary events", async () => {
  const opened = await aggregates.execute(bankAccount, "acct-1", { type: "Open", owner: "ada" }, { correlationId: "signup-1" });
  assert.equal(opened.state, { status: "open", owner: "ada", balance: 0, overdraft_limit: 0, deposits: 0 });
  assert.is(opened.version, 1);
  assert.is(opened.events.length, 1);
  const dep = await aggregates.execute(bankAccount, "acct-1", { type: "Deposit", amount: 70 });
  assert.is(dep.state.balance, 70);
  assert.is(dep.version, 2);
  assert.is(dep.seq, dep.events[0]!.seq);
  const stored = await entityMessages("acct-1");
  assert.equal(
    stored.map((m) => m.subject),
    ["events.@.BankAccount.acct-1.AccountOpened", "events.@.BankAccount.acct-1.MoneyDeposited"],
  );
  assert.is(stored[0]!.header.get("ce-subject"), "acct-1", "the entity id is the CloudEvents subject");
  assert.is(stored[0]!.header.get("ce-correlationid"), "signup-1");
  // queryable by type (the entity subjects beside events.<type>), by id, by correlation (the indexer is not running: by type here)
  const store = new EventStore(env.nc);
  const byType = await store.getByType("MoneyDeposited");
  assert.equal(
    byType.map((e) => [e.event.id, e.event.subject, e.subject]),
    [[dep.events[0]!.id, "acct-1", "events.@.BankAccount.acct-1.MoneyDeposited"]],
  );
  const loaded = await aggregates.load(bankAccount, "acct-1");
  assert.equal(loaded, { state: dep.state, version: 2, seq: dep.seq });
});

test("execute: a refused command (decide throws) reaches the caller and stores nothing; a schema violation neither", async () => {
  await aggregates.execute(bankAccount, "acct-2", { type: "Open", owner: "bob" });
  const before = (await entityMessages("acct-2")).length;
  try {
    await aggregates.execute(bankAccount, "acct-2", { type: "Withdraw", amount: 10 });
    assert.unreachable("insufficient funds");
  } catch (err) {
    assert.instance(err, CommandRefused);
    assert.match((err as Error).message, /insufficient funds/);
  }
  // the example's schema wants a 3-letter currency
  const schemas = new (await import("../../runtime/store/schemas.ts")).EventSchemas("examples/bank-account/schemas/events");
  const strict = new AggregateStore(env.nc, { schemas });
  try {
    await strict.execute(bankAccount, "acct-2", { type: "Deposit", amount: 5, currency: "euro" });
    assert.unreachable("schema");
  } catch (err) {
    assert.instance(err, SchemaViolationError);
    assert.match((err as Error).message, /currency/);
  }
  assert.is((await entityMessages("acct-2")).length, before);
});

test("execute: concurrent writers on one entity from two connections lose no update; the server's guard detects every conflict", async () => {
  const other = await connectNats({ servers: env.server.url, name: "writer-2" });
  extra.push(other);
  const a = new AggregateStore(env.nc);
  const b = new AggregateStore(other);
  await a.execute(bankAccount, "acct-hot", { type: "Open", owner: "hot" });
  const N = 60;
  const run = (s: AggregateStore) =>
    Promise.all(Array.from({ length: N }, () => s.execute(bankAccount, "acct-hot", { type: "Deposit", amount: 1 }, { retries: 100 })));
  const [ra, rb] = await Promise.all([run(a), run(b)]);
  const all = [...ra, ...rb];
  const retried = all.filter((r) => r.attempts > 1).length;
  assert.ok(retried > 0, "some commands met a conflict and were decided again");
  const final = await a.load(bankAccount, "acct-hot");
  assert.is(final.state.balance, 2 * N);
  assert.is(final.state.deposits, 2 * N);
  assert.is(final.version, 2 * N + 1);
  // every command's event is stored once, and the versions each saw are distinct (a serial order)
  assert.is(new Set(all.map((r) => r.version)).size, 2 * N);
  assert.is((await entityMessages("acct-hot")).length, 2 * N + 1);
});

test("execute: the events of one decision are stored in order, the first carrying the rest", async () => {
  await aggregates.execute(bankAccount, "acct-3", { type: "Open", owner: "cy", overdraft_limit: 100 });
  const r = await aggregates.execute(bankAccount, "acct-3", { type: "Withdraw", amount: 30 });
  assert.equal(
    r.events.map((e) => e.type),
    ["MoneyWithdrawn", "OverdraftFeeCharged"],
  );
  assert.is(r.state.balance, -30 - OVERDRAFT_FEE);
  const [, first, second] = await entityMessages("acct-3");
  assert.is(first!.header.get(JetbusHeaders.Decision), "1/2");
  assert.is(second!.header.get(JetbusHeaders.Decision), "2/2");
  assert.ok(first!.header.get(JetbusHeaders.DecisionRest));
  assert.is(second!.seq, first!.seq + 1);
});

test("execute: a decision its writer left half stored (a crash after the first event) is completed before the next command", async () => {
  await aggregates.execute(bankAccount, "acct-4", { type: "Open", owner: "dee", overdraft_limit: 100 });
  const [opened] = await entityMessages("acct-4");
  // what a writer killed between the two appends leaves: the first event, with the second in its header
  const withdrawn = createEvent({ type: "MoneyWithdrawn", data: { amount: 20 }, subject: "acct-4" });
  const fee = createEvent({ type: "OverdraftFeeCharged", data: { fee: OVERDRAFT_FEE }, subject: "acct-4" });
  const wire = entityWire("BankAccount", "acct-4", withdrawn, { index: 1, size: 2, rest: [fee] });
  await (await import("../../runtime/aggregate/append.ts")).publishGuarded(env.nc, wire, "events.@.BankAccount.acct-4.>", opened!.seq);
  const r = await aggregates.execute(bankAccount, "acct-4", { type: "Deposit", amount: 1 });
  assert.is(r.state.balance, -20 - OVERDRAFT_FEE + 1);
  const stored = await entityMessages("acct-4");
  assert.equal(
    stored.map((m) => m.header.get("ce-type")),
    ["AccountOpened", "MoneyWithdrawn", "OverdraftFeeCharged", "MoneyDeposited"],
  );
  assert.is(stored[2]!.header.get("ce-id"), fee.id, "the rest is stored with its own id");
  assert.is(stored[2]!.header.get(JetbusHeaders.Decision), "2/2");
});

test("execute: a command id makes a command apply once; expectedVersion is checked", async () => {
  await aggregates.execute(bankAccount, "acct-5", { type: "Open", owner: "eve" });
  const first = await aggregates.execute(bankAccount, "acct-5", { type: "Deposit", amount: 10 }, { commandId: "cmd-1" });
  const again = await aggregates.execute(bankAccount, "acct-5", { type: "Deposit", amount: 10 }, { commandId: "cmd-1" });
  assert.is(first.duplicate, false);
  assert.is(again.duplicate, true);
  assert.equal(
    again.events.map((e) => e.id),
    first.events.map((e) => e.id),
  );
  assert.is(again.state.balance, 10);
  try {
    await aggregates.execute(bankAccount, "acct-5", { type: "Deposit", amount: 1 }, { expectedVersion: 1 });
    assert.unreachable("expected version");
  } catch (err) {
    assert.instance(err, AggregateConflictError);
    assert.is((err as AggregateConflictError).code, "AGGREGATE_CONFLICT");
    assert.match((err as Error).message, /expected version 1, the entity is at version 2/);
  }
});

test("execute: a command id older than the entity's snapshot is recognised by the store's duplicate window (its event ids)", async () => {
  const counter = defineAggregate<{ n: number }, "inc", { type: "Incremented"; data: Record<string, never> }>({
    name: "SnapCounter",
    initial: () => ({ n: 0 }),
    evolve: (s) => ({ n: s.n + 1 }),
    decide: () => ({ type: "Incremented", data: {} }),
    snapshots: { every: 5 },
  });
  const first = await aggregates.execute(counter, "s1", "inc", { commandId: "old-1" });
  assert.is(first.events[0]!.id, "SnapCounter/s1/old-1/1");
  for (let i = 0; i < 12; i++) await aggregates.execute(counter, "s1", "inc");
  // another process (no kept state) loads from the snapshot at 10: old-1 is not among the events it reads
  const again = await new AggregateStore(env.nc).execute(counter, "s1", "inc", { commandId: "old-1" });
  assert.is(again.duplicate, true);
  assert.equal(again.state, { n: 13 });
  assert.equal((await new AggregateStore(env.nc, { cacheSize: 0 }).load(counter, "s1")).state, { n: 13 });
});

test("execute: past its retries a command fails with AggregateConflictError and stores nothing", async () => {
  // a decider that lets another writer (another process: its own store) in between its own load and append, every time
  const otherWriter = new AggregateStore(env.nc);
  let interference = 0;
  const racy = defineAggregate<number, string, { type: "Bumped"; data: { by: string } }>({
    name: "Racy",
    initial: () => 0,
    evolve: (n) => n + 1,
    async decide(command, _state, entity) {
      if (command === "mine") {
        interference++;
        await otherWriter.execute(racy, entity.id, "theirs");
      }
      return { type: "Bumped", data: { by: command } };
    },
  });
  try {
    await aggregates.execute(racy, "r1", "mine", { retries: 2 });
    assert.unreachable("conflict");
  } catch (err) {
    assert.instance(err, AggregateConflictError);
    assert.is((err as AggregateConflictError).attempts, 3);
    assert.ok((err as AggregateConflictError).retryable);
  }
  assert.is(interference, 3);
  const final = await aggregates.load(racy, "r1");
  assert.is(final.state, 3, "only the three interfering commands were stored");
});

test("snapshots: every N events the state is stored with the sequence it covers; loads start there", async () => {
  const counter = defineAggregate<{ n: number }, "inc", { type: "Incremented"; data: Record<string, never> }>({
    name: "Counter",
    initial: () => ({ n: 0 }),
    evolve: (s) => ({ n: s.n + 1 }),
    decide: () => ({ type: "Incremented", data: {} }),
    snapshots: { every: 3 },
  });
  let last;
  for (let i = 0; i < 7; i++) last = await aggregates.execute(counter, "c1", "inc");
  const kv = await new Kvm(env.nc).open(Buckets.snapshots("Counter"));
  const snap = JSON.parse(new TextDecoder().decode((await kv.get(Buffer.from("c1").toString("base64url")))!.value)) as Record<
    string,
    unknown
  >;
  assert.equal(snap.state, { n: 6 });
  assert.is(snap.version, 6);
  // a load from the snapshot reads only the 7th event: the snapshot's state is what it starts from
  await kv.put(Buffer.from("c1").toString("base64url"), JSON.stringify({ ...snap, state: { n: 600 } }));
  const loaded = await aggregates.load(counter, "c1");
  assert.equal(loaded, { state: { n: 601 }, version: 7, seq: last!.seq });
});

test("time travel: the state as of a time, a store sequence or a version, with the events that made it", async () => {
  await aggregates.execute(bankAccount, "acct-6", { type: "Open", owner: "fay" });
  await aggregates.execute(bankAccount, "acct-6", { type: "Deposit", amount: 5 });
  const between = new Date();
  await new Promise((r) => setTimeout(r, 20)); // the store's clock moves past `between` (ms resolution)
  const d2 = await aggregates.execute(bankAccount, "acct-6", { type: "Deposit", amount: 7 });
  const atTime = await aggregates.history(bankAccount, "acct-6", { at: between });
  assert.is(atTime.state.balance, 5);
  assert.is(atTime.version, 2);
  assert.is(atTime.later, 1);
  assert.equal(
    atTime.entries.map((e) => e.event.type),
    ["AccountOpened", "MoneyDeposited"],
  );
  const atSeq = await aggregates.history(bankAccount, "acct-6", { seq: d2.seq - 1 });
  assert.is(atSeq.state.balance, 5);
  const atVersion = await aggregates.history(bankAccount, "acct-6", { version: 1 });
  assert.equal(atVersion.state, { status: "open", owner: "fay", balance: 0, overdraft_limit: 0, deposits: 0 });
  const now = await aggregates.history(bankAccount, "acct-6");
  assert.is(now.state.balance, 12);
  assert.is(now.later, 0);
});

test("event versions: a version 1 event in an entity's history is folded as version 2 through its upcaster; new ones are stored as 2", async () => {
  useUpcasters(upcasters);
  try {
    const opened = await aggregates.execute(bankAccount, "acct-7", { type: "Open", owner: "gus" });
    // a deposit stored before the currency existed (version 1), as an old writer stored it
    const old = createEvent({ type: "MoneyDeposited", data: { amount: 3 }, subject: "acct-7", dataversion: 1 });
    const wire = encodeEvent(old, { subject: entitySubject("BankAccount", "acct-7", "MoneyDeposited") });
    await (await import("../../runtime/aggregate/append.ts")).publishGuarded(env.nc, wire, "events.@.BankAccount.acct-7.>", opened.seq);
    const seen: Array<Recorded<AccountEvent>> = [];
    const spying = defineAggregate({
      ...bankAccount,
      evolve: (s: Parameters<typeof bankAccount.evolve>[0], e: Recorded<AccountEvent>) => (seen.push(e), bankAccount.evolve(s, e)),
    });
    const r = await aggregates.execute(spying, "acct-7", { type: "Deposit", amount: 4, currency: "EUR" });
    assert.is(r.state.balance, 7);
    const upcast = seen.find((e) => e.id === old.id)!;
    assert.equal(upcast.data, { amount: 3, currency: "EUR" });
    assert.is(upcast.dataversion, 2);
    assert.is(r.events[0]!.dataversion, 2, "new events carry the latest version");
    const h = await aggregates.history(bankAccount, "acct-7");
    assert.equal(
      h.entries.map((e) => [e.storedVersion, e.event.dataversion]),
      [
        [1, 1],
        [1, 2],
        [2, 2],
      ],
    );
  } finally {
    clearUpcasters();
  }
});

test.run();
