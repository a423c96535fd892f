// `npm run chaos -- --profile short|long [--json] [--seed N] [--keep]`: a 3-node NATS cluster in
// network namespaces, the workload (publisher, 2 routers, an unordered and an ordered actor with 2
// processes each, a stateful counter with 2 processes, and 2 commanders of an aggregate), every fault
// kind of issue 16 (and kill-commander) on a seeded schedule, then `jetbus check` over the
// publisher's acks, the actors' effect files, the store and the counter's state, and the aggregate's
// verdict (chaos/account-verdict.ts). Exit 0 valid, 1 lost/reordered/an aggregate check (or a
// run that broke), 2 cannot run here (not root, no ip/nft, subnet taken, bad arguments).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNatsServer } from "../runtime/nats/binary.ts";
import { parseArgs, type Args } from "./args.ts";
import { bringUp } from "./bring-up.ts";
import type { Cluster } from "./cluster.ts";
import { drain } from "./drain.ts";
import { runFaults } from "./fault-schedule.ts";
import { FaultInjector } from "./faults.ts";
import { acquireLock, releaseLock } from "./lock.ts";
import { cleanupLeftovers, missingPrerequisite, SUBNET_CIDR, subnetTaken, teardown, type Ns } from "./net.ts";
import { Processes } from "./processes.ts";
import { verdict } from "./verdict.ts";
import { provisionStore, startWorkload } from "./workload.ts";

const log = (s: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

function fail2(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

const parsed = parseArgs(process.argv.slice(2));
if (typeof parsed === "string") fail2(parsed);
const args: Args = parsed;
const prerequisite = missingPrerequisite();
if (prerequisite) fail2(prerequisite);
const taken = subnetTaken();
if (taken) fail2(`the chaos subnet ${SUBNET_CIDR} overlaps an interface of this machine: ${taken}`);
const lockProblem = acquireLock();
if (lockProblem) fail2(lockProblem);

const { profile, seed } = args;
log(`seed ${seed} (replay: npm run chaos -- --profile ${profile.name} --seed ${seed}); profile ${profile.name}`);
cleanupLeftovers(log);

const dir = mkdtempSync(join(tmpdir(), "jbchaos-run-"));
// JetStream data on tmpfs: the faults kill processes, not the machine (page cache survives a
// kill -9), so fsync buys nothing here and costs most of the shared disk's time
const dataDir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "jbchaos-data-"));
const processes = new Processes(dir);
const namespaces: Ns[] = [];
let cluster: Cluster | undefined;
let cleaned = false;

/** Synchronous, idempotent: runs on success, failure, signals and process exit alike. */
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  processes.killAllNow();
  teardown(namespaces); // kills what still runs inside the namespaces (nodes, proxy) by pid, then removes them
  rmSync(dataDir, { recursive: true, force: true });
  releaseLock();
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    log(`${sig}: tearing down`);
    cleanup();
    process.exit(130);
  });
}

async function main(): Promise<number> {
  const bin = findNatsServer(log);
  const up = bringUp({ bin, dir, dataDir, processes, namespaces });
  const { setProxyDelay } = up;
  cluster = up.cluster;
  log(`nats-server ${bin} x3 in namespaces ${namespaces.map((n) => n.name).join(", ")}; run dir ${dir}`);
  const { nc, configFile, stream } = await provisionStore(dir, cluster);
  const injector = new FaultInjector({ dir, cluster, processes, namespaces: up.nodeNamespaces, nc, stream, setProxyDelay, log });
  await startWorkload({ dir, configFile, cluster, processes, profile, seed, log });

  await runFaults({ injector, nc, stream, profile, seed, setProxyDelay, log });
  const end = await drain({ dir, nc, stream, processes, profile, log });

  const checkFailed = await verdict({
    dir,
    configFile,
    servers: cluster.urls,
    seed,
    accounts: profile.accounts,
    processes,
    json: args.json,
    log,
  });
  const failed = checkFailed || !end.drained || !end.counted;
  if (!failed && !args.keep) rmSync(dir, { recursive: true, force: true });
  else log(`run kept in ${dir} (logs, acks, effects, faults, verdict.json)`);
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  log(`run failed: ${(err as Error).stack ?? err}`);
  log(`run kept in ${dir}`);
  code = 1;
} finally {
  if (cluster) await cluster.stopAll().catch(() => undefined);
  cleanup();
}
process.exit(code);
