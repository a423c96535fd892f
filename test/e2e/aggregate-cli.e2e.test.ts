import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureStore } from "../../runtime/store/stream.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { AggregateStore } from "../../runtime/aggregate/mod.ts";
import { publishGuarded } from "../../runtime/aggregate/append.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { entitySubject } from "../../runtime/events/subjects.ts";
import { clearUpcasters, useUpcasters } from "../../runtime/events/versions/registry.ts";
import bankAccount from "../../examples/bank-account/bank-account.ts";
import upcasters from "../../examples/bank-account/upcasters.ts";

// `jetbus aggregate show` as a user runs it, on the bank-account example's config (its aggregate
// module and its upcasters, loaded by the CLI process itself)
const CONFIG = "examples/bank-account/jetbus.config.json";

let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
  await ensureStore(await jetstreamManager(env.nc), configFrom({}).store);
  useUpcasters(upcasters);
});
test.after(async () => {
  clearUpcasters();
  await env?.stop();
});

type Shown = {
  version: number;
  seq: number;
  state: { balance: number; status: string; deposits: number };
  later_events: number;
  events: Array<{ version: number; seq: number; stored_at: string; type: string; dataversion: number; stored_dataversion?: number }>;
};

async function show(...args: string[]): Promise<Shown> {
  const r = await runJetbus([
    "aggregate",
    "show",
    "BankAccount",
    "acct-cli",
    ...args,
    "--json",
    "--config",
    CONFIG,
    "--servers",
    env.server.url,
  ]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Shown;
}

test("aggregate show --at, --seq, --entity-version: the state as of that point from events stored before and after it; old events shown upcast", async () => {
  const store = new AggregateStore(env.nc, { source: "test" });
  const opened = await store.execute(bankAccount, "acct-cli", { type: "Open", owner: "ada" });
  // a deposit as a writer before currencies stored it (MoneyDeposited version 1, upcast to 2 on read)
  const old = createEvent({ type: "MoneyDeposited", data: { amount: 5 }, subject: "acct-cli", dataversion: 1 });
  const wire = encodeEvent(old, { subject: entitySubject("BankAccount", "acct-cli", "MoneyDeposited") });
  await publishGuarded(env.nc, wire, "events.@.BankAccount.acct-cli.>", opened.seq);

  const before = await show();
  assert.is(before.version, 2);
  const secondStored = Date.parse(before.events[1]!.stored_at);
  // the mark lies strictly between the 2nd event's stored millisecond and the 3rd's
  await waitFor(() => Date.now() > secondStored + 2, "the clock is past the 2nd event's millisecond");
  const mark = new Date(secondStored + 1);
  await waitFor(() => Date.now() > mark.getTime() + 1, "the clock is past the mark");
  await store.execute(bankAccount, "acct-cli", { type: "Deposit", amount: 7, currency: "EUR" });
  await store.execute(bankAccount, "acct-cli", { type: "Withdraw", amount: 2 });

  const now = await show();
  assert.equal([now.version, now.state.balance, now.later_events], [4, 10, 0]);
  assert.ok(Date.parse(now.events[2]!.stored_at) > mark.getTime(), "the 3rd event was stored after the mark");

  const atMark = await show("--at", mark.toISOString());
  assert.equal([atMark.version, atMark.state.balance, atMark.state.deposits, atMark.later_events], [2, 5, 1, 2]);
  assert.equal(
    atMark.events.map((e) => [e.type, e.dataversion, e.stored_dataversion]),
    [
      ["AccountOpened", 1, undefined],
      ["MoneyDeposited", 2, 1],
    ],
  );
  // before anything was stored: no event folded, every one later
  const early = await show("--at", new Date(Date.parse(now.events[0]!.stored_at) - 60_000).toISOString());
  assert.equal([early.version, early.state.status, early.later_events], [0, "new", 4]);

  const atSeq = await show("--seq", String(now.events[2]!.seq));
  assert.equal([atSeq.version, atSeq.state.balance, atSeq.later_events], [3, 12, 1]);
  const atVersion = await show("--entity-version", "1");
  assert.equal([atVersion.state.status, atVersion.state.balance], ["open", 0]);

  // the text form names the point and what was left out
  const text = await runJetbus([
    "aggregate",
    "show",
    "BankAccount",
    "acct-cli",
    "--at",
    mark.toISOString(),
    "--config",
    CONFIG,
    "--servers",
    env.server.url,
  ]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^BankAccount acct-cli as of ${mark.toISOString()}: version 2`));
  assert.match(text.stdout, /MoneyDeposited v2 \(stored v1\)/);
  assert.match(text.stdout, /2 later events not folded in\n$/);
});

test("aggregate show: an entity without events exits 1 (NOT_FOUND); two points at once are a usage error", async () => {
  const none = await runJetbus(["aggregate", "show", "BankAccount", "nobody", "--config", CONFIG, "--servers", env.server.url]);
  assert.is(none.code, 1, none.stderr);
  assert.match(none.stderr, /NOT_FOUND/);
  const both = await runJetbus([
    "aggregate",
    "show",
    "BankAccount",
    "x",
    "--at",
    "1h",
    "--seq",
    "3",
    "--config",
    CONFIG,
    "--servers",
    env.server.url,
  ]);
  assert.is(both.code, 2, both.stderr);
  assert.match(both.stderr, /not --at and --seq/);
});

test.run();
