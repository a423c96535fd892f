// Three nats-server nodes, each in its own network namespace with its own address. The n1-n2 route
// goes through the delaying proxy (its own namespace): n1 solicits the proxy, n1 and n2 refuse
// each other's address directly (a reject rule that stays for the whole run), so every byte between
// them crosses the proxy and a `delay` there slows exactly that link.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { HOST_ADDR, inNamespace, SUBNET, type Ns } from "./net.ts";

export const CLIENT_PORT = 4222;
export const ROUTE_PORT = 6222;
export const NODE_NAMES = ["n1", "n2", "n3"] as const;
export type NodeName = (typeof NODE_NAMES)[number];
export const NODE_ADDR: Record<NodeName, string> = { n1: `${SUBNET}.11`, n2: `${SUBNET}.12`, n3: `${SUBNET}.13` };
export const PROXY_ADDR = `${SUBNET}.20`;
export { HOST_ADDR };

/** The pair whose route crosses the proxy, and the address each side sees the other at. */
export const PROXIED: readonly [NodeName, NodeName] = ["n1", "n2"];

export type NodeState = "running" | "killed" | "paused";

type Node = { name: NodeName; ns: Ns; conf: string; log: string; child?: ChildProcess; exited?: Promise<void>; state: NodeState };

function nodeConf(name: NodeName, dir: string): string {
  const addr = NODE_ADDR[name];
  const routes: Record<NodeName, string[]> = {
    n1: [`${PROXY_ADDR}:${ROUTE_PORT}`, `${NODE_ADDR.n3}:${ROUTE_PORT}`],
    n2: [`${NODE_ADDR.n3}:${ROUTE_PORT}`],
    n3: [`${NODE_ADDR.n1}:${ROUTE_PORT}`, `${NODE_ADDR.n2}:${ROUTE_PORT}`],
  };
  return [
    `server_name: ${name}`,
    `listen: "${addr}:${CLIENT_PORT}"`,
    // the production setting (deploy/cluster/shared.conf): fsync before every ack
    `jetstream { store_dir: "${join(dir, name)}", sync_interval: always }`,
    `cluster {`,
    `  name: jbchaos`,
    `  listen: "${addr}:${ROUTE_PORT}"`,
    `  routes: [${routes[name].map((r) => `"nats-route://${r}"`).join(", ")}]`,
    `}`,
  ].join("\n");
}

export class Cluster {
  private readonly nodes: Map<NodeName, Node>;

  /** Configs and logs under `dir`, each node's JetStream data under `dataDir`/<node>. */
  constructor(
    private readonly bin: string,
    dir: string,
    dataDir: string,
    namespaces: Record<NodeName, Ns>,
  ) {
    this.nodes = new Map(
      NODE_NAMES.map((name) => {
        mkdirSync(join(dataDir, name), { recursive: true });
        const conf = join(dir, `${name}.conf`);
        writeFileSync(conf, nodeConf(name, dataDir) + "\n");
        return [name, { name, ns: namespaces[name], conf, log: join(dir, `${name}.log`), state: "killed" as NodeState }];
      }),
    );
  }

  get urls(): string[] {
    return NODE_NAMES.map((n) => `nats://${NODE_ADDR[n]}:${CLIENT_PORT}`);
  }

  state(name: NodeName): NodeState {
    return this.node(name).state;
  }

  pid(name: NodeName): number | undefined {
    return this.node(name).child?.pid;
  }

  private node(name: NodeName): Node {
    return this.nodes.get(name)!;
  }

  /** Starts the node's nats-server inside its namespace. nsenter execs it: the child's pid is the server's. */
  start(name: NodeName): void {
    const n = this.node(name);
    const out = createWriteStream(n.log, { flags: "a" });
    const child = spawn(...inNamespace(n.ns.name, this.bin, ["-c", n.conf]), { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    n.child = child;
    n.exited = new Promise((r) => child.once("exit", () => r()));
    n.state = "running";
  }

  async kill(name: NodeName): Promise<void> {
    const n = this.node(name);
    if (!n.child || n.state === "killed") return;
    n.child.kill("SIGKILL");
    await n.exited;
    n.state = "killed";
  }

  pause(name: NodeName): void {
    this.node(name).child?.kill("SIGSTOP");
    this.node(name).state = "paused";
  }

  resume(name: NodeName): void {
    this.node(name).child?.kill("SIGCONT");
    this.node(name).state = "running";
  }

  /** Every node killed (a paused one too: SIGKILL ends a stopped process). */
  async stopAll(): Promise<void> {
    for (const name of NODE_NAMES) await this.kill(name);
  }

  /** The server name leading `stream`, from `$JS.API.STREAM.INFO.<stream>`; undefined while there is none. */
  static async leaderOf(nc: NatsConnection, stream: string): Promise<NodeName | undefined> {
    try {
      const info = await (await jetstreamManager(nc, { timeout: 3000 })).streams.info(stream);
      const leader = info.cluster?.leader;
      return NODE_NAMES.find((n) => n === leader);
    } catch {
      return undefined;
    }
  }
}
