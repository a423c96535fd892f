import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_CONFIG_FILE, loadConfig, parseConfigText } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { renderAccountsConf, roleUsers, Users, type RoleUser } from "../../cluster/permissions.ts";
import {
  addProcesses,
  clusterDown,
  clusterUp,
  defaultPorts,
  restartNode,
  DEFAULT_LOCAL_DIR,
  type LocalClusterState,
  type LocalProcess,
} from "../../cluster/local.ts";
import { untilSignal } from "./up.ts";
import { jetbusNodeArgs } from "../self.ts";
import { connectNats, waitForJetStream } from "../../nats/connect.ts";
import { isNoPeers } from "../../nats/errors.ts";
import { provisionStreams } from "../../cluster/provision.ts";
import { checkDurability } from "../../cluster/durability.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { withCommonOptions, allOptions, withRuntime, type CommonOptions } from "../options.ts";
import type { JetbusConfig } from "../../config/types.ts";
import { resolveStateOrdering } from "../../actor/state/ordering-default.ts";

/** As the admin: wait for the new cluster's meta leader, then create the shared streams the roles may only bind to. */
async function provisionAsAdmin(
  state: LocalClusterState,
  config: JetbusConfig,
  passwords: Record<string, string>,
  admin: RoleUser,
): Promise<void> {
  const nc = await connectNats({ servers: state.natsUrl, user: admin.user, pass: passwords[admin.passwordVar], name: "jetbus-cluster-up" });
  try {
    await waitForJetStream(nc, 60_000);
    // a cluster that just elected its meta leader may not know every peer yet: R3 placement fails for a moment
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await provisionStreams(nc, config);
        return;
      } catch (err) {
        if (!isNoPeers(err) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}

/** `name[:count],...` → [[name, count]]. */
export function parseProcessSpec(spec: string | undefined): Array<[string, number]> {
  if (!spec) return [];
  return spec
    .split(",")
    .filter(Boolean)
    .map((part) => {
      const [name, count = "1"] = part.split(":");
      const n = Number(count);
      if (!name || !Number.isInteger(n) || n < 1) throw new UsageError(`--actors: "${part}" is not NAME or NAME:COUNT (COUNT >= 1)`);
      return [name, n];
    });
}

/** A copy of the user's config pointing at the cluster with one role's user (file mode 0600: it holds a password). */
function configFor(state: LocalClusterState, configPath: string | undefined, user: RoleUser, passwords: Record<string, string>): string {
  const file = configPath ?? DEFAULT_CONFIG_FILE;
  const doc = (existsSync(file) ? parseConfigText(readFileSync(file, "utf8"), file) : {}) as { nats?: Record<string, unknown> };
  doc.nats = { ...(doc.nats ?? {}), servers: state.natsUrl.split(","), user: user.user, pass: passwords[user.passwordVar] };
  const out = join(state.dir, `config-${user.user}.json`);
  writeFileSync(out, JSON.stringify(doc, null, 2) + "\n", { mode: 0o600 });
  return out;
}

function readPasswords(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => [m[1]!, m[2]!]),
  );
}

function spawnJetbus(state: LocalClusterState, label: string, args: string[]): LocalProcess {
  const log = join(state.dir, `${label}.log`);
  const out = openSync(log, "a");
  const child = spawn(process.execPath, jetbusNodeArgs(args), {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, JETBUS_LOG_JSON: "1" },
  });
  child.unref();
  return { name: label, pid: child.pid!, log };
}

type UpOptions = { config?: string; dir: string; portBase: string; actors?: string; routers: string; detach?: boolean; json?: boolean };

export function registerCluster(program: Command): void {
  const cluster = program
    .command("cluster")
    .description("a 3-node JetStream cluster on this machine (deploy/cluster configs), and the cluster's accounts");

  cluster
    .command("up")
    .description(
      "start nats-1..3 on loopback (stores under --dir), print NATS_URL; optionally router and actor processes. Ctrl-C (or `cluster down` with --detach) stops them",
    )
    .option("-c, --config <file>", "jetbus config: actors for the accounts, and the config the processes run")
    .option("--dir <dir>", "state, logs and stores", DEFAULT_LOCAL_DIR)
    .option("--port-base <port>", "client ports base..base+2, routes base+2000.., monitoring base+4000..", "4222")
    .option("--actors <spec>", "actor processes to start: NAME[:COUNT],... (each as its own NATS user)")
    .option("--routers <n>", "router processes to start (with --actors)", "0")
    .option("--detach", "return once the cluster is up; stop it later with `jetbus cluster down`")
    .option("--json", "print the state as JSON")
    .action(async function (this: Command) {
      const o = this.opts<UpOptions>();
      const base = Number(o.portBase);
      if (!Number.isInteger(base) || base < 1 || base > 60000)
        throw new UsageError(`--port-base must be a port number, got "${o.portBase}"`);
      // a stateful actor without "ordered" is ordered on its state key: its users need its partition durables
      const config = await resolveStateOrdering(loadConfig(o.config), o.config ? dirname(resolve(o.config)) : process.cwd(), {
        mode: "lenient",
      });
      const users = roleUsers(config.actors, { eventsStream: config.store.stream });
      const spec = parseProcessSpec(o.actors);
      for (const [name] of spec)
        if (!config.actors.some((a) => a.name === name))
          throw new UsageError(
            `--actors: no actor "${name}" in the config (known: ${config.actors.map((a) => a.name).join(", ") || "none"})`,
          );
      let state = await clusterUp({ dir: o.dir, accounts: renderAccountsConf(users), ports: [0, 1, 2].map((i) => defaultPorts(i, base)) });
      const passwords = readPasswords(state.passwordsFile);
      try {
        await provisionAsAdmin(
          state,
          config,
          passwords,
          users.find((u) => u.user === Users.admin)!,
        );
      } catch (err) {
        await clusterDown(o.dir);
        throw err;
      }
      const started: LocalProcess[] = [];
      const routers = Number(o.routers);
      if (routers > 0 || spec.length > 0) {
        for (let i = 0; i < routers; i++)
          started.push(
            spawnJetbus(state, `router-${i + 1}`, [
              "router",
              "--config",
              configFor(
                state,
                o.config,
                users.find((u) => u.user === Users.router)!,
                passwords,
              ),
            ]),
          );
        for (const [name, count] of spec) {
          const cfg = configFor(
            state,
            o.config,
            users.find((u) => u.actor === name)!,
            passwords,
          );
          for (let i = 0; i < count; i++) started.push(spawnJetbus(state, `${name}-${i + 1}`, ["actor", name, "--config", cfg]));
        }
        state = addProcesses(state, started);
      }
      if (o.json) process.stdout.write(JSON.stringify(state) + "\n");
      else {
        process.stdout.write(`cluster up: ${state.nodes.map((n) => `${n.name} pid ${n.pid}`).join(", ")}\n`);
        process.stdout.write(`export NATS_URL=${state.natsUrl}\n`);
        process.stdout.write(`passwords (admin: ${Users.admin}): ${state.passwordsFile}\n`);
        for (const p of started) process.stdout.write(`started ${p.name} pid ${p.pid} (log ${p.log})\n`);
      }
      if (o.detach) return;
      const signalled = untilSignal();
      process.stdout.write("Ctrl-C stops everything\n");
      await signalled;
      const { stopped } = await clusterDown(o.dir);
      process.stdout.write(`stopped ${stopped} processes\n`);
    });

  cluster
    .command("down")
    .description("stop what `jetbus cluster up --detach` started (actors first, SIGTERM); stores are kept unless --purge")
    .option("--dir <dir>", "state dir given to `cluster up`", DEFAULT_LOCAL_DIR)
    .option("--purge", "also delete stores, logs and local passwords")
    .action(async function (this: Command) {
      const o = this.opts<{ dir: string; purge?: boolean }>();
      const { stopped } = await clusterDown(o.dir, { purge: o.purge });
      process.stdout.write(`stopped ${stopped} processes${o.purge ? `; removed ${resolve(o.dir)}` : ""}\n`);
    });

  cluster
    .command("restart")
    .argument("<node>", "the node to start again: nats-1, nats-2 or nats-3")
    .description(
      "start one stopped node of the local cluster again (after kill -9 or a crash), with its config, store and passwords; it rejoins the others",
    )
    .option("--dir <dir>", "state dir given to `cluster up`", DEFAULT_LOCAL_DIR)
    .action(async function (this: Command, node: string) {
      const o = this.opts<{ dir: string }>();
      const started = await restartNode(o.dir, node);
      process.stdout.write(`restarted ${started.name} pid ${started.pid} (log ${started.log})\n`);
    });

  withCommonOptions(cluster.command("durability"))
    .description(
      "report R1/R2 jetbus streams and KV buckets on a cluster, and a deployed store that differs from the config; --strict exits 2 on any finding",
    )
    .option("--strict", "fail (DurabilityError, exit 2) instead of warning")
    .action(async function (this: Command) {
      const o = allOptions<CommonOptions & { strict?: boolean }>(this);
      await withRuntime(
        o,
        async (rt) => {
          const findings = await checkDurability(await jetstreamManager(rt.nc), rt.config, { strict: o.strict });
          if (o.json) process.stdout.write(JSON.stringify({ findings }) + "\n");
          else if (findings.length === 0) process.stdout.write("durability: no findings\n");
          else for (const f of findings) process.stdout.write(`warning: ${f.subject}: ${f.problem}\n`);
        },
        "jetbus-durability",
      );
    });

  cluster
    .command("accounts")
    .description("print the nats-server accounts block (users by role, least-privilege permissions) for the config's actors")
    .option("-c, --config <file>", "jetbus config (its actors and store.stream)")
    .action(async function (this: Command) {
      const o = this.opts<{ config?: string }>();
      const config = await resolveStateOrdering(loadConfig(o.config), o.config ? dirname(resolve(o.config)) : process.cwd(), {
        mode: "lenient",
      });
      process.stdout.write(renderAccountsConf(roleUsers(config.actors, { eventsStream: config.store.stream })));
    });
}
