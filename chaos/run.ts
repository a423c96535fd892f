// `npm run chaos -- --profile short|long [--json] [--seed N] [--keep]`: a 3-node NATS cluster in
// network namespaces, the workload (publisher, 2 routers, an unordered and an ordered actor with 2
// processes each, and a stateful counter with 2 processes), every fault kind of issue 16 on a seeded
// schedule, then `jetbus check` over the publisher's acks, the actors' effect files, the store and
// the counter's state. Exit 0 valid, 1 lost/reordered (or a
// run that broke), 2 cannot run here (not root, no ip/nft, subnet taken, bad arguments).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../runtime/config/load.ts";
import { connectNats, waitForJetStream } from "../runtime/nats/connect.ts";
import { findNatsServer } from "../runtime/nats/binary.ts";
import { provisionCluster } from "../test/helpers/cluster-nodes.ts";
import { Cluster, NODE_ADDR, NODE_NAMES, PROXY_ADDR, ROUTE_PORT, type NodeName } from "./cluster.ts";
import { baseRules, FaultInjector, planFaults, sleep } from "./faults.ts";
import { acquireLock, releaseLock } from "./lock.ts";
import { cleanupLeftovers, createBridge, createNamespace, missingPrerequisite, setRules, subnetTaken, teardown, type Ns } from "./net.ts";
import { Processes, ROOT } from "./processes.ts";
import { PROFILES, type Profile } from "./profiles.ts";
import { randomSeed, Rng } from "./rng.ts";
import { Actors, ORDERED_PARTITIONS, workloadConfig } from "./workload-config.ts";
import { counterSettled } from "./counter-settled.ts";
import { progress } from "./progress.ts";

/** The drain gives up early when no acked event got handled for this long: a stuck run, not a slow one. */
const STALL_MS = 90_000;

type Args = { profile: Profile; json: boolean; seed: number; keep: boolean };

function parseArgs(argv: readonly string[]): Args | string {
  const a: Args = { profile: PROFILES.short, json: false, seed: randomSeed(), keep: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--json") a.json = true;
    else if (k === "--keep") a.keep = true;
    else if (k === "--profile") {
      const p = PROFILES[argv[++i] as keyof typeof PROFILES];
      if (!p) return `--profile must be ${Object.keys(PROFILES).join(" or ")}`;
      a.profile = p;
    } else if (k === "--seed") {
      a.seed = Number(argv[++i]);
      if (!Number.isSafeInteger(a.seed) || a.seed < 0) return "--seed must be a whole number >= 0";
    } else return `unknown argument ${k} (usage: npm run chaos -- --profile short|long [--json] [--seed N] [--keep])`;
  }
  return a;
}

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
if (taken) fail2(`the chaos subnet 10.213.0.0/24 overlaps an interface of this machine: ${taken}`);
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

async function waitHealthy(nc: NatsConnection, stream: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const i = await (await jetstreamManager(nc, { timeout: 3000 })).streams.info(stream);
      const r = i.cluster?.replicas ?? [];
      if (i.cluster?.leader && r.length === 2 && r.every((x) => x.current && !x.offline)) return true;
    } catch {
      /* no leader yet */
    }
    await sleep(500);
  }
  return false;
}

async function main(): Promise<number> {
  const bin = findNatsServer(log);
  createBridge();
  const ns = {} as Record<NodeName, Ns>;
  for (const n of NODE_NAMES) namespaces.push((ns[n] = createNamespace(n, NODE_ADDR[n])));
  const px = createNamespace("px", PROXY_ADDR);
  namespaces.push(px);
  // the proxied pair refuses each other's direct address from the start: set after the nodes formed
  // the cluster, a direct n1-n2 route found by gossip stayed up as a black hole (each side drops the
  // other's resets) until nats-server's 10 s write deadline closed it; with n3 killed meanwhile
  // (seed 99's first fault) no two nodes could talk
  for (const n of NODE_NAMES) setRules(ns[n], baseRules(n));

  // the delaying proxy in its own namespace: the n1 -> n2 route crosses it
  const proxy = processes.start({
    name: "proxy",
    cmd: "ip",
    args: [
      "netns",
      "exec",
      px.name,
      process.execPath,
      "--import",
      "tsx",
      join(ROOT, "chaos", "proxy.ts"),
      `${PROXY_ADDR}:${ROUTE_PORT}`,
      `${NODE_ADDR.n2}:${ROUTE_PORT}`,
    ],
    stdin: true,
  });
  const setProxyDelay = (ms: number) => proxy.child.stdin!.write(`delay ${ms}\n`);

  cluster = new Cluster(bin, dir, dataDir, ns);
  const c = cluster;
  for (const n of NODE_NAMES) c.start(n);
  log(`nats-server ${bin} x3 in namespaces ${namespaces.map((n) => n.name).join(", ")}; run dir ${dir}`);
  const nc = await connectNats({ servers: c.urls, name: "chaos-harness" });
  await waitForJetStream(nc, 60_000);
  const doc = workloadConfig(c.urls);
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(configFile, JSON.stringify(doc, null, 2));
  const config = configFrom(JSON.parse(JSON.stringify(doc)), configFile);
  await provisionCluster(nc, config);
  const stream = config.store.stream;
  const injector = new FaultInjector({ dir, cluster: c, processes, namespaces: ns, nc, stream, setProxyDelay, log });

  const env = { JETBUS_CHAOS_DIR: dir, JETBUS_LOG_JSON: "1", JETBUS_LOG_LEVEL: "warn" };
  const common = ["--config", configFile, "--no-http"];
  processes.jetbus("router-1", ["router", ...common], env);
  for (const actor of [Actors.Plain, Actors.Ordered, Actors.Counter])
    for (const i of [1, 2]) processes.jetbus(`${actor}-${i}`, ["actor", actor, ...common], env);
  processes.jetbus("router-2", ["router", ...common], env);
  processes.start({
    name: "publisher",
    cmd: process.execPath,
    args: [
      "--import",
      "tsx",
      join(ROOT, "chaos", "publisher.ts"),
      dir,
      c.urls.join(","),
      String(profile.rate),
      String(profile.keys),
      String(seed),
    ],
    env,
  });

  log(`workload: ${profile.rate} events/s over ${profile.keys} keys; waiting for the first handlings`);
  const warm = await progress(
    dir,
    120_000,
    (p) => p.acked >= profile.rate && (p.handled[Actors.Plain] ?? 0) > 0 && (p.handled[Actors.Ordered] ?? 0) > 0,
  );
  if (!warm.ok) throw new Error(`the workload did not start within 120 s: ${JSON.stringify(warm.last)}`);

  const rng = new Rng(seed);
  const plan = planFaults(rng, profile.extraFaults);
  log(`faults planned: ${plan.map((f) => f.kind).join(", ")}`);
  for (const [i, f] of plan.entries()) {
    if (!(await waitHealthy(nc, stream, 60_000))) log(`${stream} not fully healthy before fault ${i + 1}; injecting anyway`);
    const r = await injector.run(f);
    log(`fault ${i + 1}/${plan.length}: ${r.kind} ${r.target} for ${r.end - r.start} ms${r.pid ? ` (pid ${r.pid})` : ""}`);
    await sleep(rng.int(...profile.recoveryMs));
  }

  injector.heal();
  setProxyDelay(0);
  await waitHealthy(nc, stream, 60_000);
  log("faults over; stopping the publisher and waiting for every acked event to be handled");
  await processes.stop("publisher");
  const drained = await progress(dir, profile.drainMs, (p) => p.pending[Actors.Plain] === 0 && p.pending[Actors.Ordered] === 0, STALL_MS);
  log(`drain ${drained.ok ? "complete" : "timed out"}: ${JSON.stringify(drained.last)}`);
  const counted = await counterSettled(nc, Actors.Counter, ORDERED_PARTITIONS, drained.ok ? profile.drainMs : 10_000);
  log(`counter ${counted.ok ? "settled" : "not settled"}: ${JSON.stringify(counted.last)}`);
  await processes.stopAll(30_000);
  // the last fault may have been a node kill: the store is read once it is whole again
  await waitHealthy(nc, stream, 60_000);
  await nc.close();

  const effects = readdirSync(dir)
    .filter((f) => f.startsWith("effects-"))
    .map((f) => join(dir, f));
  const checkArgs = [
    join(ROOT, "bin", "jetbus.js"),
    "check",
    "--config",
    configFile,
    "--servers",
    c.urls.join(","),
    "--read-store",
    "--acked",
    join(dir, "acked.jsonl"),
    "--sent",
    join(dir, "sent.jsonl"),
    "--faults",
    join(dir, "faults.jsonl"),
    "--seed",
    String(seed),
    "--unordered",
    Actors.Plain,
    "--allow-duplicates",
    `${Actors.Plain},${Actors.Ordered}`,
    "--counter-state",
    Actors.Counter,
    "--json",
    "--seen",
    ...effects,
  ];
  const runCheck = () =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const ch = spawn(process.execPath, checkArgs, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let out = "",
        err = "";
      ch.stdout.on("data", (d) => (out += d));
      ch.stderr.on("data", (d) => (err += d));
      ch.on("exit", (code) => resolve({ code, out, err }));
    });
  // reading the store is a one-shot command: a request timing out on the loaded machine is tried again
  let checked = await runCheck();
  let v: Record<string, unknown> | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      v = JSON.parse(checked.out.trim().split("\n").pop() ?? "") as Record<string, unknown>;
      break;
    } catch {
      if (attempt === 3) throw new Error(`jetbus check printed no verdict (exit ${checked.code}): ${checked.err.slice(-2000)}`);
      log(`jetbus check gave no verdict (${checked.err.trim().split("\n")[0]}); again`);
      await sleep(5000);
      checked = await runCheck();
    }
  }
  const { targets, ...rest } = v;
  // a jetbus process that died without a kill from the harness is a finding of its own
  const crashed = processes.crashes.filter((c) => c.name !== "proxy");
  const summary: Record<string, unknown> = {
    ...rest,
    crashed: crashed.map((c) => `${c.name} pid ${c.pid} (${c.signal ?? `exit ${c.code}`})`),
  };
  for (const c of crashed)
    log(
      `CRASH: ${c.name} (pid ${c.pid}) ended by itself (${c.signal ?? `exit ${c.code}`}) at ${new Date(c.at).toISOString()}; its log: ${join(dir, c.name + ".log")}`,
    );
  writeFileSync(join(dir, "verdict.json"), JSON.stringify(v, null, 2));
  if (args.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else {
    process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    const state = v.state as { keys: number; events: number; mismatches: unknown[] } | undefined;
    if (state)
      process.stdout.write(
        `  ${Actors.Counter} state: ${state.keys} keys, ${state.events} events, mismatches ${JSON.stringify(state.mismatches)}\n`,
      );
    for (const t of targets as { name: string; expected: number; lost: number; extra: number; outOfOrder: number }[])
      process.stdout.write(
        `  ${t.name}: expected ${t.expected}, lost ${t.lost}, duplicate handlings ${t.extra}, out of order ${t.outOfOrder}\n`,
      );
  }
  const lostOrReordered = Number(summary.lost) > 0 || Number(summary.reordered) > 0;
  const failed = lostOrReordered || checked.code !== 0 || !drained.ok || !counted.ok || crashed.length > 0;
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
