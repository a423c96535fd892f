import type { ClusterInfo } from "@nats-io/jetstream";
import type { ConsoleContext } from "./context.ts";

/** How long to collect answers of every server to one $SYS ping. */
const SYS_WAIT_MS = 700;

type ServerView = {
  name: string;
  version?: string;
  cluster?: string;
  host?: string;
  connections?: number;
  cpu?: number;
  mem?: number;
  jetstream?: boolean;
  source: "sys" | "jetstream" | "connection";
};

function placement(c: ClusterInfo | undefined, replicas: number) {
  return {
    leader: c?.leader ?? null,
    replicas: replicas,
    peers: (c?.replicas ?? []).map((p) => ({
      name: p.name,
      current: p.current,
      offline: p.offline,
      lag: p.lag ?? 0,
      activeMs: Math.round((p.active ?? 0) / 1e6),
    })),
  };
}

/** Every server's statsz through the system account; null when this user may not ask ($SYS not permitted or not configured). */
async function sysServers(ctx: ConsoleContext): Promise<ServerView[] | null> {
  try {
    const answers = await ctx.nc.requestMany("$SYS.REQ.SERVER.PING", "", { maxWait: SYS_WAIT_MS, strategy: "timer" });
    const out: ServerView[] = [];
    for await (const m of answers) {
      const v = m.json<{
        server?: { name?: string; ver?: string; cluster?: string; host?: string; jetstream?: boolean };
        statsz?: { connections?: number; cpu?: number; mem?: number };
      }>();
      if (!v.server?.name) continue;
      out.push({
        name: v.server.name,
        version: v.server.ver,
        cluster: v.server.cluster,
        host: v.server.host,
        connections: v.statsz?.connections,
        cpu: v.statsz?.cpu,
        mem: v.statsz?.mem,
        jetstream: v.server.jetstream,
        source: "sys",
      });
    }
    return out.length ? out : null;
  } catch {
    return null;
  }
}

/**
 * GET /api/cluster: servers (from $SYS when permitted, else from the connection and the stream
 * replica lists), every stream's leader and replica health, every durable consumer's leader.
 */
export async function clusterView(ctx: ConsoleContext) {
  const jsm = await ctx.jsm();
  const streams = [];
  const consumers = [];
  for await (const si of jsm.streams.list()) {
    streams.push({
      name: si.config.name,
      messages: si.state.messages,
      bytes: si.state.bytes,
      ...placement(si.cluster, si.config.num_replicas),
    });
    for await (const ci of jsm.consumers.list(si.config.name)) {
      if (!ci.config.durable_name) continue;
      consumers.push({
        stream: si.config.name,
        name: ci.name,
        pending: ci.num_pending,
        ackPending: ci.num_ack_pending,
        redelivered: ci.num_redelivered,
        ...placement(ci.cluster, ci.config.num_replicas || si.config.num_replicas),
      });
    }
  }
  streams.sort((a, b) => a.name.localeCompare(b.name));
  const sys = await sysServers(ctx);
  let servers: ServerView[];
  if (sys) servers = sys.sort((a, b) => a.name.localeCompare(b.name));
  else {
    const info = ctx.nc.info;
    const names = new Set<string>();
    for (const s of streams) for (const n of [s.leader, ...s.peers.map((p) => p.name)]) if (n) names.add(n);
    const connected = info?.server_name;
    if (connected) names.add(connected);
    servers = [...names].sort().map((name) =>
      name === connected
        ? {
            name,
            version: info?.version,
            cluster: info?.cluster,
            host: info?.host,
            jetstream: info?.jetstream,
            source: "connection" as const,
          }
        : { name, source: "jetstream" as const },
    );
  }
  return { connectedTo: ctx.nc.info?.server_name ?? null, systemAccount: sys !== null, servers, streams, consumers };
}
