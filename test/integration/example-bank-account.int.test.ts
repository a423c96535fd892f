import { test } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import pino from "pino";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { createJetbus, type Jetbus } from "../../runtime/mod.ts";
import { clearUpcasters } from "../../runtime/events/versions/registry.ts";
import type { Logger } from "../../runtime/log.ts";
import bankAccount, { type AccountCommand } from "../../examples/bank-account/bank-account.ts";
import type { AccountBalance } from "../../examples/bank-account/balances.ts";

// The example of issue 25 item 6, its projection and notification parts: BankAccount's stored
// events build the `balances` projection, and the activity ticker turns them into Dashboard.*
// notifications the live dashboard handles, none of which is stored.

const CONFIG = fileURLToPath(new URL("../../examples/bank-account/jetbus.config.json", import.meta.url));
const ticks: Array<Record<string, unknown>> = [];

function capturingLogger(): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        const l = JSON.parse(line) as Record<string, unknown>;
        if (l.msg === "dashboard tick") ticks.push(l);
      }
      done();
    },
  });
  return pino({ level: "info" }, sink) as unknown as Logger;
}

let env: Awaited<ReturnType<typeof startServer>>;
let jetbus: Jetbus;

test.before(async () => {
  env = await startServer();
  jetbus = await createJetbus({ configPath: CONFIG, servers: env.server.url, logger: capturingLogger(), source: "example-test" });
  await jetbus.start();
});
test.after(async () => {
  await jetbus?.stop();
  clearUpcasters();
  await env?.stop();
});

test("the balances projection follows each account's state, and every money event reaches the live dashboard as a notification, not stored", async () => {
  const plan: Record<string, AccountCommand[]> = {
    "acct-1": [
      { type: "Open", owner: "ada", overdraft_limit: 50 },
      { type: "Deposit", amount: 100 },
      { type: "Withdraw", amount: 130 },
    ],
    "acct-2": [
      { type: "Open", owner: "bob" },
      { type: "Deposit", amount: 20 },
      { type: "Deposit", amount: 5, currency: "EUR" },
    ],
  };
  for (const [id, commands] of Object.entries(plan)) for (const c of commands) await jetbus.execute(bankAccount, id, c);
  for (const id of Object.keys(plan)) {
    const state = (await jetbus.history(bankAccount, id)).state;
    const entry = await waitFor(async () => {
      const e = await jetbus.projection<AccountBalance>("balances", id);
      return e && e.value.balance === state.balance ? e : undefined;
    }, `balances of ${id} = the aggregate's`);
    assert.is(entry.value.owner, state.owner);
    assert.is(entry.value.open, true);
  }
  // acct-1: -30 and an overdraft fee of 5; acct-2: 25
  assert.is((await jetbus.projection<AccountBalance>("balances", "acct-1"))!.value.balance, -35);
  assert.is((await jetbus.projection<AccountBalance>("balances", "acct-1"))!.value.movements, 3, "deposit, withdrawal, fee");
  // money events: 3 deposits, 1 withdrawal, 1 fee
  await waitFor(() => ticks.length === 5, "five dashboard ticks");
  assert.equal(
    ticks.filter((t) => t.account === "acct-1").map((t) => [t.kind, t.amount]),
    [
      ["MoneyDeposited", 100],
      ["MoneyWithdrawn", -130],
      ["OverdraftFeeCharged", -5],
    ],
  );
  const info = await (await jetstreamManager(env.nc)).streams.info("EVENTS", { subjects_filter: ">" });
  const subjects = Object.keys(info.state.subjects ?? {});
  assert.ok(subjects.length > 0, "the aggregate's events are stored");
  assert.not.ok(
    subjects.some((s) => s.includes("Dashboard")),
    `no notification in the store: ${subjects.join(", ")}`,
  );
});

test.run();
