import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import type { JetbusConfig } from "../../runtime/config/types.ts";
import { provisionStreams } from "../../runtime/cluster/provision.ts";
import { retryTransient } from "../../runtime/nats/connect.ts";
import { isNoPeers, isTransient } from "../../runtime/nats/errors.ts";
import type { NatsServer } from "../../runtime/nats/server.ts";
import { waitFor } from "./wait.ts";

/** The running node whose server_name is `name` (each node asked over its own short-lived connection). */
export async function nodeNamed(nodes: readonly NatsServer[], name: string): Promise<NatsServer> {
  for (const n of nodes) {
    if (!n.running) continue;
    const nc = await connect({ servers: n.url, reconnect: false });
    const serverName = nc.info?.server_name;
    await nc.close();
    if (serverName === name) return n;
  }
  throw new Error(`no running node named ${name}`);
}

/** The node that leads `stream` right now. */
export async function streamLeaderNode(jsm: JetStreamManager, nodes: readonly NatsServer[], stream: string): Promise<NatsServer> {
  const leader = await waitFor(async () => (await jsm.streams.info(stream)).cluster?.leader, `a leader for ${stream}`, 30_000, 100);
  return nodeNamed(nodes, leader);
}

/** Every replica of `stream` (besides the leader) online, current and with lag 0: a restarted node has caught up. */
export function waitCaughtUp(jsm: JetStreamManager, stream: string, followers = 2, timeoutMs = 60_000): Promise<StreamInfo> {
  return waitFor(
    async () => {
      const i = await jsm.streams.info(stream);
      const r = i.cluster?.replicas ?? [];
      return i.cluster?.leader && r.length === followers && r.every((x) => x.current && !x.offline && (x.lag ?? 0) === 0) ? i : undefined;
    },
    `every replica of ${stream} current with lag 0`,
    timeoutMs,
    200,
  );
}

/**
 * Runs a stream or bucket creation until the cluster can place it. A cluster that just elected its
 * meta leader may not know every peer yet, so R3 placement fails for a moment ("no suitable peers").
 */
export async function retryPlacement<T>(fn: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await retryTransient(fn);
    } catch (err) {
      const again = isNoPeers(err) || isTransient(err);
      if (!again || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The shared streams at the config's replicas, once the cluster can place them. */
export function provisionCluster(nc: NatsConnection, config: JetbusConfig): Promise<void> {
  return retryPlacement(() => provisionStreams(nc, config));
}

/** The monitoring URL of a node started with `http_port: -1` (nats-server writes it to its ports file). */
function monitoringUrl(node: NatsServer): string {
  const dir = join(node.workDir, "ports");
  const ports = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!), "utf8")) as { monitoring?: string[] };
  const url = ports.monitoring?.[0];
  if (!url) throw new Error(`node ${node.url} has no monitoring port: start the cluster with extraConfig "http_port: -1"`);
  return url;
}

/**
 * The node that leads the JetStream meta group now, from a node's /jsz (loopback monitoring port;
 * the cluster must be started with `extraConfig: "http_port: -1"`).
 */
export async function metaLeaderNode(nodes: readonly NatsServer[]): Promise<NatsServer> {
  const leader = await waitFor(
    async () => {
      for (const n of nodes) {
        if (!n.running) continue;
        const jsz = (await (await fetch(`${monitoringUrl(n)}/jsz`)).json()) as { meta_cluster?: { leader?: string } };
        if (jsz.meta_cluster?.leader) return jsz.meta_cluster.leader;
      }
      return undefined;
    },
    "a JetStream meta leader",
    30_000,
    100,
  );
  return nodeNamed(nodes, leader);
}
