// The network and the servers: a bridge, a namespace per node and one for the delaying proxy, the
// proxied pair's standing rules, the proxy, and the 3 nats-server nodes started.
import { join } from "node:path";
import { Cluster, NODE_ADDR, NODE_NAMES, PROXY_ADDR, ROUTE_PORT, type NodeName } from "./cluster.ts";
import { baseRules } from "./faults.ts";
import { createBridge, createNamespace, inNamespace, setRules, type Ns } from "./net.ts";
import { ROOT, type Processes } from "./processes.ts";

export type BringUp = Readonly<{
  bin: string;
  dir: string;
  dataDir: string;
  processes: Processes;
  /** Filled as namespaces are created, so a teardown removes them even when the bring-up fails half way. */
  namespaces: Ns[];
}>;

export type Up = Readonly<{ cluster: Cluster; nodeNamespaces: Record<NodeName, Ns>; setProxyDelay(ms: number): void }>;

export function bringUp({ bin, dir, dataDir, processes, namespaces }: BringUp): Up {
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
  const [proxyCmd, proxyArgs] = inNamespace(px.name, process.execPath, [
    "--import",
    "tsx",
    join(ROOT, "chaos", "proxy.ts"),
    `${PROXY_ADDR}:${ROUTE_PORT}`,
    `${NODE_ADDR.n2}:${ROUTE_PORT}`,
  ]);
  const proxy = processes.start({
    name: "proxy",
    cmd: proxyCmd,
    args: proxyArgs,
    stdin: true,
  });
  const setProxyDelay = (ms: number) => proxy.child.stdin!.write(`delay ${ms}\n`);

  const cluster = new Cluster(bin, dir, dataDir, ns);
  for (const n of NODE_NAMES) cluster.start(n);
  return { cluster, nodeNamespaces: ns, setProxyDelay };
}
