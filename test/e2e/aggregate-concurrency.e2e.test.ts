// Aggregate commands from several processes at once on a real nats-server: the server's
// per-entity guard detects every conflict, no decision is taken on a stale state, and a SIGKILLed
// process re-running its commands (same command ids) applies none twice.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { ensureStore } from "../../runtime/store/stream.ts";
import { AggregateStore } from "../../runtime/aggregate/aggregate-store.ts";
import bankAccount, { CommandRefused, type Account } from "../../examples/bank-account/bank-account.ts";
import { spawnWorker, type WorkerPlan, type WorkerProcess } from "../fixtures/aggregate-worker.ts";
import { ackedIds, aggregateVerdict } from "../fixtures/aggregate-verdict.ts";

let env: Awaited<ReturnType<typeof startServer>>;
const procs: WorkerProcess[] = [];
test.before(async () => {
  env = await startServer();
  await ensureStore(await jetstreamManager(env.nc), configFrom({}).store);
});
test.after(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await env?.stop();
});

const open = (balance: number): Account => ({ status: "open", owner: "test", balance, overdraft_limit: 0, deposits: 0 });

test("two processes withdrawing from one account: every conflict detected and retried, no withdrawal decided on a stale balance, the end state a serial run's", async () => {
  const setup = new AggregateStore(env.nc);
  await setup.execute(bankAccount, "acct-0", { type: "Open", owner: "test" });
  await setup.execute(bankAccount, "acct-0", { type: "Deposit", amount: 300 });
  // 2 x 200 withdrawals of 1 from a balance of 300, one command at a time per process
  const plans: WorkerPlan[] = ["a", "b"].map((worker) => ({
    servers: [env.server.url],
    worker,
    count: 200,
    prefix: "acct-",
    entities: 1,
    offset: 0,
    command: { type: "Withdraw", amount: 1 },
    concurrency: 1,
    startSubject: "test.aggregate.go",
  }));
  const workers = plans.map(spawnWorker);
  procs.push(...workers);
  // both begin together: one process's start-up (up to ~19 s through tsx on a loaded machine) can outlast the
  // other's 200 commands, and then no command ever meets a conflict (a full npm test saw retried = 0)
  await waitFor(() => workers.every((w) => w.ready() || w.child.exitCode !== null), "both workers subscribed", 120_000, 100);
  env.nc.publish("test.aggregate.go");
  await waitFor(() => workers.every((w) => w.done() || w.child.exitCode !== null), "both workers done", 180_000, 100);
  for (const w of workers) assert.ok(w.done(), w.output());
  const acked = workers.reduce((n, w) => n + w.acked.size, 0);
  const refused = workers.reduce((n, w) => n + w.refused.size, 0);
  const retried = workers.reduce((n, w) => n + [...w.acked.values()].filter((a) => a > 1).length, 0);
  assert.is(acked, 300, "exactly the balance was withdrawn");
  assert.is(refused, 100, "the rest refused for insufficient funds");
  assert.ok(retried > 0, "conflicts happened, each detected by the server and decided again");

  // the history: each withdrawal decided on the balance right before it, never below zero
  const h = await setup.history(bankAccount, "acct-0");
  let balance = 0;
  for (const { event } of h.entries) {
    balance = bankAccount.evolve({ ...open(balance) }, event).balance;
    assert.ok(balance >= 0, `balance ${balance} after event ${event.version}`);
  }
  assert.is(h.state.balance, 0);

  // a serial run of the same 400 commands on one writer ends in the same state
  const serial = new AggregateStore(env.nc);
  await serial.execute(bankAccount, "acct-serial", { type: "Open", owner: "test" });
  await serial.execute(bankAccount, "acct-serial", { type: "Deposit", amount: 300 });
  for (let i = 0; i < 400; i++)
    await serial.execute(bankAccount, "acct-serial", { type: "Withdraw", amount: 1 }).catch((err: unknown) => {
      if (!(err instanceof CommandRefused)) throw err;
    });
  assert.equal(h.state, (await serial.load(bankAccount, "acct-serial")).state);
  assert.is(h.version, 302);
});

test("8 processes x 1,000 commands over 50 accounts, one process SIGKILLed and run again: every account exact, no command twice", async () => {
  const ENTITIES = 50;
  const setup = new AggregateStore(env.nc);
  await Promise.all(Array.from({ length: ENTITIES }, (_, i) => setup.execute(bankAccount, `many-${i}`, { type: "Open", owner: "test" })));
  const plans: WorkerPlan[] = Array.from({ length: 8 }, (_, k) => ({
    servers: [env.server.url],
    worker: `w${k}`,
    count: 1000,
    prefix: "many-",
    entities: ENTITIES,
    offset: k * 7,
    command: { type: "Deposit", amount: 1 },
    concurrency: 4,
  }));
  const workers = plans.map(spawnWorker);
  procs.push(...workers);
  const victim = workers[0]!;
  await waitFor(() => victim.acked.size >= 300 || victim.child.exitCode !== null, "the first worker a third through", 180_000, 20);
  assert.ok(!victim.done(), "killed while running");
  victim.child.kill("SIGKILL");
  await victim.exited;
  const ackedBeforeKill = victim.acked.size;
  // the same plan again: a client that got no answer retries its commands with their ids
  const rerun = spawnWorker(plans[0]!);
  procs.push(rerun);
  const running = [rerun, ...workers.slice(1)];
  await waitFor(() => running.every((w) => w.done() || w.child.exitCode !== null), "every worker done", 600_000, 200);
  for (const w of running) assert.ok(w.done(), w.output());
  assert.ok(
    rerun.duplicates() >= ackedBeforeKill,
    `the rerun found the ${ackedBeforeKill} commands acked before the kill stored (${rerun.duplicates()} duplicates)`,
  );

  const acked = [...ackedIds(plans[0]!, victim), ...running.flatMap((w, k) => ackedIds(plans[k]!, w))];
  const v = await aggregateVerdict(env.nc, plans, acked, (_id, n) => ({ ...open(n), deposits: n }));
  assert.equal(v.problems.slice(0, 10), [], v.problems.join("\n"));
  const total = [...v.entities.values()].reduce((n, e) => n + e.state.deposits, 0);
  assert.is(total, 8000);
});

test.run();
