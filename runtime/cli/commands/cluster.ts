import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_CONFIG_FILE, loadConfig } from "../../config/load.ts";
import { parseDuration } from "../../config/duration.ts";
import { ProcessFailedError, UsageError } from "../../errors.ts";
import { renderAccountsConf, roleUsers, Users, type RoleUser } from "../../cluster/permissions.ts";
import {
  addProcesses,
  clusterDown,
  clusterUp,
  defaultPorts,
  restartNode,
  DEFAULT_LOCAL_DIR,
  type LocalClusterState,
} from "../../cluster/local.ts";
import { freePorts, waitUntilReady, type StartingProcess } from "../../cluster/local-process.ts";
import { untilSignal } from "./up.ts";
import { jetbusNodeArgs } from "../self.ts";
import { connectNats, waitForJetStream } from "../../nats/connect.ts";
import { isNoPeers } from "../../nats/errors.ts";
import { provisionStreams } from "../../cluster/provision.ts";
import { checkDurability } from "../../cluster/durability.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
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
        break;
      } catch (err) {
        if (!isNoPeers(err) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await waitForLeaders(nc, 60_000);
  } finally {
    await nc.close();
  }
}

/**
 * Until every stream and durable has an elected leader (or `timeoutMs` passes: the processes then
 * meet the election themselves). A just-created R3 stream answers only once its own group has
 * elected one; role processes started before that were seen to die at start-up with "stream not
 * found" on a loaded machine.
 */
async function waitForLeaders(nc: NatsConnection, timeoutMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + timeoutMs;
  const led = async (leader: () => Promise<string | undefined>) => {
    while (Date.now() < deadline) {
      if (await leader().catch(() => undefined)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  for await (const si of jsm.streams.list()) {
    const stream = si.config.name;
    await led(async () => (await jsm.streams.info(stream)).cluster?.leader);
    for await (const ci of jsm.consumers.list(stream)) await led(async () => (await jsm.consumers.info(stream, ci.name)).cluster?.leader);
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

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");

function readPasswords(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/** Connection settings a parent shell may have set for another server or user: the child gets only its role's. */
const NATS_AUTH_VARS = [
  "NATS_URL",
  "NATS_USER",
  "NATS_PASSWORD",
  "NATS_TOKEN",
  "NATS_NKEY_SEED_FILE",
  "NATS_CREDS_FILE",
  "NATS_TLS_CA",
  "NATS_TLS_CERT",
  "NATS_TLS_KEY",
];

/**
 * One router or actor process on the cluster as its role's user. It runs the user's own config
 * file where it is (relative actor modules and schemas/ resolve from its folder, as under `up`);
 * the cluster's URLs, the role's user and password and the process's HTTP port come from the
 * environment, which wins over the file's `nats` and `observability.http_port`.
 */
function spawnJetbus(
  state: LocalClusterState,
  label: string,
  args: string[],
  env: { user: string; pass: string; http: number },
): StartingProcess {
  const log = join(state.dir, `${label}.log`);
  const out = openSync(log, "a");
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const v of NATS_AUTH_VARS) delete childEnv[v];
  Object.assign(childEnv, {
    NATS_URL: state.natsUrl,
    NATS_USER: env.user,
    NATS_PASSWORD: env.pass,
    JETBUS_HTTP_PORT: String(env.http),
    JETBUS_LOG_JSON: "1",
  });
  const child = spawn(process.execPath, jetbusNodeArgs(args), { detached: true, stdio: ["ignore", out, out], env: childEnv });
  closeSync(out);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once("exit", (code, signal) => res({ code, signal })),
  );
  child.unref();
  return { name: label, pid: child.pid!, log, http: env.http, exited };
}

type UpOptions = {
  config?: string;
  dir: string;
  portBase: string;
  actors?: string;
  routers: string;
  readyTimeout: string;
  detach?: boolean;
  json?: boolean;
};

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
    .option(
      "--ready-timeout <duration>",
      "how long router and actor processes may take to answer /readyz; one that exits or is not ready by then fails `up` (exit 1), which stops everything it started",
      "120s",
    )
    .option("--detach", "return once the cluster is up; stop it later with `jetbus cluster down`")
    .option("--json", "print the state as JSON")
    .action(async function (this: Command) {
      const o = this.opts<UpOptions>();
      const base = Number(o.portBase);
      if (!Number.isInteger(base) || base < 1 || base > 60000)
        throw new UsageError(`--port-base must be a port number, got "${o.portBase}"`);
      const readyTimeoutMs = parseDuration(o.readyTimeout, "--ready-timeout");
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
      // the config the processes run: the user's file where it is, so relative paths mean what they mean under `up`
      const configPath = o.config ? resolve(o.config) : existsSync(DEFAULT_CONFIG_FILE) ? resolve(DEFAULT_CONFIG_FILE) : undefined;
      const withConfig = (args: string[]) => (configPath ? [...args, "--config", configPath] : args);
      const roles: Array<{ label: string; args: string[]; user: RoleUser }> = [];
      const routers = Number(o.routers);
      for (let i = 0; i < routers; i++)
        roles.push({ label: `router-${i + 1}`, args: withConfig(["router"]), user: users.find((u) => u.user === Users.router)! });
      for (const [name, count] of spec)
        for (let i = 0; i < count; i++)
          roles.push({ label: `${name}-${i + 1}`, args: withConfig(["actor", name]), user: users.find((u) => u.actor === name)! });
      const ports = await freePorts(roles.length);
      const started = roles.map((r, i) =>
        spawnJetbus(state, r.label, r.args, { user: r.user.user, pass: passwords[r.user.passwordVar]!, http: ports[i]! }),
      );
      if (started.length > 0)
        state = addProcesses(
          state,
          started.map(({ name, pid, log, http }) => ({ name, pid, log, http })),
        );
      const failures = await waitUntilReady(started, config.observability.http_host, readyTimeoutMs);
      if (failures.length > 0) {
        // all or nothing: a half-started cluster would look up while an actor's events pile up unhandled
        await clusterDown(o.dir);
        throw new ProcessFailedError(
          failures.map((f) => f.name),
          failures.map((f) => `${f.name} (pid ${f.pid}) ${f.reason}; log ${f.log}${f.logTail ? `:\n${indent(f.logTail)}` : ""}`).join("\n"),
          `\`cluster up\` stopped the nodes and processes it had started (stores and logs are kept in ${o.dir}); fix the cause and run it again`,
        );
      }
      if (o.json) process.stdout.write(JSON.stringify(state) + "\n");
      else {
        process.stdout.write(`cluster up: ${state.nodes.map((n) => `${n.name} pid ${n.pid}`).join(", ")}\n`);
        process.stdout.write(`export NATS_URL=${state.natsUrl}\n`);
        process.stdout.write(`passwords (admin: ${Users.admin}): ${state.passwordsFile}\n`);
        for (const p of started) process.stdout.write(`started ${p.name} pid ${p.pid}, ready (http :${p.http}, log ${p.log})\n`);
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
