// The workload on a started cluster: the store provisioned from the workload's config, then the
// routers, the actors' processes (2 each), the publisher and the aggregate's commanders started,
// and a wait for the first handlings.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../runtime/config/load.ts";
import { connectNats, waitForJetStream } from "../runtime/nats/connect.ts";
import { provisionCluster } from "../test/helpers/cluster-nodes.ts";
import type { Cluster } from "./cluster.ts";
import { ROOT, type Processes } from "./processes.ts";
import type { Profile } from "./profiles.ts";
import { progress } from "./progress.ts";
import { Actors, actorProcesses, COMMANDERS, workloadConfig } from "./workload-config.ts";

/** The harness's connection (every node), the config file the jetbus processes read, the store's stream. */
export type Store = Readonly<{ nc: NatsConnection; configFile: string; stream: string }>;

/** Connects to the cluster, writes the workload's config into `dir` and provisions the store from it. */
export async function provisionStore(dir: string, cluster: Cluster): Promise<Store> {
  const nc = await connectNats({ servers: cluster.urls, name: "chaos-harness" });
  await waitForJetStream(nc, 60_000);
  const doc = workloadConfig(cluster.urls);
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(configFile, JSON.stringify(doc, null, 2));
  const config = configFrom(JSON.parse(JSON.stringify(doc)), configFile);
  await provisionCluster(nc, config);
  return { nc, configFile, stream: config.store.stream };
}

export type WorkloadSpec = Readonly<{
  dir: string;
  configFile: string;
  cluster: Cluster;
  processes: Processes;
  profile: Profile;
  seed: number;
  log(line: string): void;
}>;

/**
 * How long the workload may take to handle its first events. It only guards against a workload
 * that never starts (the faults begin after it), so it is sized for a loaded machine: 9 processes
 * start at once on 2 cores, and at a load average of 33-50 two short runs (2026-12-03) had every
 * event acked and routed but none handled after 120 s; 8 of them alone took ~90 s to a first handling.
 */
const WARM_UP_MS = 300_000;

/** Starts the routers, the actors, the publisher and the commanders; resolves once events are acked and handled, throws after WARM_UP_MS without. */
export async function startWorkload({ dir, configFile, cluster, processes, profile, seed, log }: WorkloadSpec): Promise<void> {
  const env = { JETBUS_CHAOS_DIR: dir, JETBUS_LOG_JSON: "1", JETBUS_LOG_LEVEL: "warn" };
  const common = ["--config", configFile, "--no-http"];
  processes.jetbus("router-1", ["router", ...common], env);
  for (const actor of [Actors.Plain, Actors.Ordered, Actors.Counter])
    for (const name of actorProcesses(actor)) processes.jetbus(name, ["actor", actor, ...common], env);
  processes.jetbus("router-2", ["router", ...common], env);
  // the harness's own workload processes: a chaos/ script under tsx, DIR and SERVERS first
  const script = (name: string, file: string, ...args: (string | number)[]) =>
    processes.start({
      name,
      cmd: process.execPath,
      args: ["--import", "tsx", join(ROOT, "chaos", file), dir, cluster.urls.join(","), ...args.map(String)],
      env,
    });
  script("publisher", "publisher.ts", profile.rate, profile.keys, seed);
  for (const name of COMMANDERS) script(name, "commander.ts", profile.commands / COMMANDERS.length, profile.accounts, seed, name);

  log(
    `workload: ${profile.rate} events/s over ${profile.keys} keys, ${profile.commands} commands/s on ${profile.accounts} accounts; waiting for the first handlings`,
  );
  const warm = await progress(
    dir,
    WARM_UP_MS,
    (p) => p.acked >= profile.rate && (p.handled[Actors.Plain] ?? 0) > 0 && (p.handled[Actors.Ordered] ?? 0) > 0,
  );
  if (!warm.ok) throw new Error(`the workload did not start within ${WARM_UP_MS / 1000} s: ${JSON.stringify(warm.last)}`);
}
