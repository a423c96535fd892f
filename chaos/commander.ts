// A chaos workload process executing commands on the accounts of chaos/account.ts: LOOPS loops,
// RATE commands/s in all, each command on a random account (every commander shares the accounts,
// so their writes conflict and the server's guard decides). A command gets its own id and is
// retried with that id until it is acked or refused (the id makes a retry after a lost ack a
// duplicate, not a second deposit). commands-NAME.jsonl gets one line when a command is first
// tried and one with its outcome (CommandRecord of chaos/account-verdict.ts); a command in flight
// when the process is killed has no outcome line. SIGTERM: no new commands; retries in flight get
// up to DRAIN_MS, then exit 0.
// Usage: commander.ts DIR SERVERS RATE ACCOUNTS SEED NAME
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { AggregateStore } from "../runtime/aggregate/aggregate-store.ts";
import { connectNats } from "../runtime/nats/connect.ts";
import account, { CommandRefused, type AccountCommand } from "./account.ts";
import type { CommandRecord } from "./account-verdict.ts";
import { Rng } from "./rng.ts";
import { accountId } from "./workload-config.ts";

const [dir, servers, rateArg, accountsArg, seed, name] = process.argv.slice(2);
if (!dir || !servers || !rateArg || !accountsArg || !seed || !name) {
  process.stderr.write("usage: commander.ts DIR SERVERS RATE ACCOUNTS SEED NAME\n");
  process.exit(2);
}
const rate = Number(rateArg);
const accounts = Number(accountsArg);
/** Commands in flight at once per process (commands on one account in one process run one at a time). */
const LOOPS = 4;
/** As the publisher's: retries in flight may outlast any fault; between retries, time for an election. */
const DRAIN_MS = 60_000;
const RETRY_DELAY_MS = 200;

const nc = await connectNats({ servers, name: `chaos-${name}` });
// snapshots replicated as the store is (R3): an R1 bucket on a killed node would only slow loads down
const store = new AggregateStore(nc, { source: "chaos", snapshotReplicas: 3 });
// a restarted process draws other commands than the one it replaces
const rng = new Rng(Number(seed) ^ process.pid);
const file = join(dir, `commands-${name}.jsonl`);
const record = (r: CommandRecord) => appendFileSync(file, JSON.stringify(r) + "\n");
let stopping = false;
let drainDeadline = Infinity;
let next = 0;

function nextCommand(): AccountCommand {
  return rng.next() < 0.6 ? { type: "Deposit", amount: rng.int(1, 20) } : { type: "Withdraw", amount: rng.int(1, 30) };
}

async function executeUntilAnswered(cmd: string, entity: string, command: AccountCommand): Promise<void> {
  record({ kind: "sent", cmd, entity, command });
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await store.execute(account, entity, command, { commandId: cmd });
      record({ kind: "acked", cmd, entity, seq: r.seq, duplicate: r.duplicate, conflicts: r.attempts - 1, tries: attempt });
      return;
    } catch (err) {
      if (err instanceof CommandRefused) {
        record({ kind: "refused", cmd, entity, reason: err.message, tries: attempt });
        return;
      }
      // a timeout, no leader, or AggregateConflictError (nothing of it stored): the same command again
      if (Date.now() > drainDeadline) {
        process.stderr.write(`gave up on ${cmd} after ${attempt} tries: ${(err as Error).message}\n`);
        return;
      }
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
    }
  }
}

async function loop(i: number): Promise<void> {
  const interval = (LOOPS * 1000) / rate;
  let due = Date.now() + (i * interval) / LOOPS;
  while (!stopping) {
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (stopping) break;
    await executeUntilAnswered(`${name}.${process.pid}.${next++}`, accountId(rng.int(0, accounts - 1)), nextCommand());
    due = Math.max(due + interval, Date.now() - interval);
  }
}

process.on("SIGTERM", () => {
  stopping = true;
  drainDeadline = Date.now() + DRAIN_MS;
});
await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i)));
await nc.drain().catch(() => undefined);
process.stdout.write(`commanded ${next}\n`);
process.exit(0);
