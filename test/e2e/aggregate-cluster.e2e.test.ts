// Aggregate commands from 8 processes on a 3-node cluster (R3 store) through a SIGKILL of the
// store's leader node and its restart: every account exact, every command stored once.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { startCluster } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { retryPlacement, streamLeaderNode, waitCaughtUp } from "../helpers/cluster-nodes.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { ensureStore } from "../../runtime/store/stream.ts";
import { AggregateStore } from "../../runtime/aggregate/aggregate-store.ts";
import type { NatsServer } from "../../runtime/nats/server.ts";
import { Streams } from "../../runtime/topology.ts";
import bankAccount, { type Account } from "../../examples/bank-account/bank-account.ts";
import { spawnWorker, type WorkerPlan, type WorkerProcess } from "../fixtures/aggregate-worker.ts";
import { ackedIds, aggregateVerdict } from "../fixtures/aggregate-verdict.ts";

const WORKERS = 8;
const COMMANDS = 1000;
const ENTITIES = 50;

let env: Awaited<ReturnType<typeof startCluster>> | undefined;
const procs: WorkerProcess[] = [];
test.after(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await env?.stop();
});

test("8 processes x 1,000 commands over 50 accounts on an R3 store, its leader node SIGKILLed and restarted: every account exact, no command twice", async () => {
  env = await startCluster(3);
  const { cluster, nc } = env;
  const jsm = await jetstreamManager(nc);
  await retryPlacement(() => ensureStore(jsm, configFrom({ store: { replicas: 3 } }).store));
  const setup = new AggregateStore(nc);
  await Promise.all(Array.from({ length: ENTITIES }, (_, i) => setup.execute(bankAccount, `acct-${i}`, { type: "Open", owner: "test" })));
  const plans: WorkerPlan[] = Array.from({ length: WORKERS }, (_, k) => ({
    servers: cluster.urls,
    worker: `w${k}`,
    count: COMMANDS,
    prefix: "acct-",
    entities: ENTITIES,
    offset: k * 7,
    command: { type: "Deposit", amount: 1 },
    concurrency: 4,
  }));
  const workers = plans.map(spawnWorker);
  procs.push(...workers);
  const total = () => workers.reduce((n, w) => n + w.acked.size, 0);
  await waitFor(() => total() >= 2000 || workers.some((w) => w.child.exitCode !== null), "a quarter of the commands", 600_000, 50);
  const killed: NatsServer = await streamLeaderNode(jsm, cluster.nodes, Streams.Events);
  await killed.kill();
  const atKill = total();
  assert.ok(atKill < WORKERS * COMMANDS, `the node died mid-run (${atKill} commands acked)`);
  await waitFor(
    () => total() >= atKill + 2000 || workers.every((w) => w.done() || w.child.exitCode !== null),
    "progress without the node",
    600_000,
    100,
  );
  await killed.restart();
  await waitFor(() => workers.every((w) => w.done() || w.child.exitCode !== null), "every worker done", 900_000, 200);
  for (const w of workers) assert.ok(w.done(), w.output());
  await waitCaughtUp(jsm, Streams.Events);

  const acked = workers.flatMap((w, k) => ackedIds(plans[k]!, w));
  const open = (n: number): Account => ({ status: "open", owner: "test", balance: n, overdraft_limit: 0, deposits: n });
  const v = await aggregateVerdict(nc, plans, acked, (_id, n) => open(n));
  assert.equal(v.problems.slice(0, 10), [], v.problems.join("\n"));
  assert.is(
    [...v.entities.values()].reduce((n, e) => n + e.state.deposits, 0),
    WORKERS * COMMANDS,
  );
});

test.run();
