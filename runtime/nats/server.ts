import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { NatsServerFailedError } from "../errors.ts";
import { findNatsServer } from "./binary.ts";

export type ClusterSpec = Readonly<{ name: string; port: number; routes: readonly number[] }>;

export type NatsServerOptions = Readonly<{
  /** JetStream store directory; a temp dir (removed on stop) when omitted. */
  storeDir?: string;
  /** Client port; 0 lets the server choose a free one. */
  port?: number;
  serverName?: string;
  cluster?: ClusterSpec;
  /** Extra nats-server config text appended verbatim (accounts, authorization, limits). */
  extraConfig?: string;
  /** Keep stdout/stderr of the server here; defaults to a file in the work dir. */
  logFile?: string;
  readyTimeoutMs?: number;
  /** The nats-server binary; found (or installed) by findNatsServer when omitted. */
  bin?: string;
}>;

/** A free TCP port on loopback, for settings that must be known before a server starts (cluster routes). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reads the server's INFO line: proof that it accepts clients, not only that the port is bound. */
function probe(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      sock.destroy();
      res(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once("data", (buf) => done(buf.toString("utf8").startsWith("INFO ")));
    sock.once("error", () => done(false));
  });
}

function renderConfig(o: {
  port: number;
  storeDir: string;
  portsDir: string;
  name: string;
  cluster?: ClusterSpec;
  extra?: string;
}): string {
  const lines = [
    `server_name: ${JSON.stringify(o.name)}`,
    `listen: "127.0.0.1:${o.port === 0 ? -1 : o.port}"`,
    `ports_file_dir: ${JSON.stringify(o.portsDir)}`,
    `jetstream { store_dir: ${JSON.stringify(o.storeDir)} }`,
  ];
  if (o.cluster) {
    const routes = o.cluster.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
    lines.push(`cluster { name: ${JSON.stringify(o.cluster.name)}, listen: "127.0.0.1:${o.cluster.port}", routes: [${routes}] }`);
  }
  if (o.extra) lines.push(o.extra);
  return lines.join("\n") + "\n";
}

/**
 * One nats-server child process with JetStream on loopback. Used by the runtime's embedded
 * mode and by every test: a config file with its own temp store, a ports file to learn the
 * client port, then a probe before it is called ready.
 */
export class NatsServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  port = 0;
  readonly workDir: string;
  readonly storeDir: string;
  private readonly ownsStore: boolean;

  private constructor(private readonly opts: NatsServerOptions) {
    this.workDir = mkdtempSync(join(tmpdir(), "jetbus-nats-"));
    this.ownsStore = !opts.storeDir;
    this.storeDir = opts.storeDir ? resolve(opts.storeDir) : join(this.workDir, "store");
    mkdirSync(this.storeDir, { recursive: true });
    this.port = opts.port ?? 0;
  }

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(opts);
    await server.launch();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async launch(): Promise<void> {
    const bin = this.opts.bin ?? findNatsServer();
    const portsDir = join(this.workDir, "ports");
    rmSync(portsDir, { recursive: true, force: true });
    mkdirSync(portsDir);
    const confPath = join(this.workDir, "nats.conf");
    const name = this.opts.serverName ?? `jetbus-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    writeFileSync(
      confPath,
      renderConfig({ port: this.port, storeDir: this.storeDir, portsDir, name, cluster: this.opts.cluster, extra: this.opts.extraConfig }),
    );
    const logFile = this.opts.logFile ?? join(this.workDir, "server.log");
    const child = spawn(bin, ["-c", confPath, "-l", logFile], { stdio: "ignore" });
    this.child = child;
    this.exited = new Promise((r) => child.once("exit", () => r()));
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      if (!this.running)
        throw new NatsServerFailedError(`nats-server exited during start-up (code ${child.exitCode}); log: ${logFile}\n${tail(logFile)}`);
      const port = this.port || readPort(portsDir);
      if (port && (await probe(port))) {
        this.port = port;
        return;
      }
      await sleep(25);
    }
    await this.kill();
    throw new NatsServerFailedError(
      `nats-server did not accept clients within ${this.opts.readyTimeoutMs ?? 20_000} ms; log: ${logFile}\n${tail(logFile)}`,
    );
  }

  /** Restarts on the same port and store, as an operator restarting a crashed node would. */
  async restart(): Promise<void> {
    if (this.running) await this.stop({ keepFiles: true });
    await this.launch();
  }

  /** SIGKILL: a crash, with no chance to flush or say goodbye. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGKILL");
    await this.exited;
  }

  /** Graceful stop (SIGTERM, then SIGKILL after a grace period); removes temp files unless told to keep them. */
  async stop(opts: { keepFiles?: boolean; graceMs?: number } = {}): Promise<void> {
    if (this.running) {
      this.child!.kill("SIGTERM");
      const timer = setTimeout(() => this.child?.kill("SIGKILL"), opts.graceMs ?? 5000);
      await this.exited;
      clearTimeout(timer);
    }
    if (!opts.keepFiles) {
      rmSync(this.workDir, { recursive: true, force: true });
      if (this.ownsStore) rmSync(this.storeDir, { recursive: true, force: true });
    }
  }
}

function readPort(portsDir: string): number | undefined {
  for (const f of readdirSync(portsDir)) {
    if (!f.endsWith(".ports")) continue;
    try {
      const info = JSON.parse(readFileSync(join(portsDir, f), "utf8")) as { nats?: string[] };
      const m = /:(\d+)$/.exec(info.nats?.[0] ?? "");
      if (m) return Number(m[1]);
    } catch {
      // the server may still be writing the file: try again on the next poll
    }
  }
  return undefined;
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/** A JetStream cluster of `size` nodes on loopback, each with its own store. */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[]) {}

  static async start(size = 3, opts: { extraConfig?: string; name?: string } = {}): Promise<NatsCluster> {
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const name = opts.name ?? `jetbus-${Math.random().toString(36).slice(2, 8)}`;
    const nodes = await Promise.all(
      clusterPorts.map((port, i) =>
        NatsServer.start({
          port: clientPorts[i],
          serverName: `${name}-n${i + 1}`,
          cluster: { name, port, routes: clusterPorts.filter((p) => p !== port) },
          extraConfig: opts.extraConfig,
        }),
      ),
    );
    return new NatsCluster(nodes);
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
