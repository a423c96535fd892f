import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { isNoPeers } from "../../runtime/nats/errors.ts";
import { freePort, NatsCluster, NatsServer, type NatsServerOptions } from "../../runtime/nats/server.ts";

export { freePort, NatsCluster, NatsServer };

/** A real single-node server on a free port with a temp store, plus a connection to it. */
export async function startServer(
  opts: NatsServerOptions = {},
): Promise<{ server: NatsServer; nc: NatsConnection; stop: () => Promise<void> }> {
  const server = await NatsServer.start(opts);
  const nc = await connectNats({ servers: server.url, name: "test" });
  await waitForJetStream(nc);
  return {
    server,
    nc,
    stop: async () => {
      await nc.close().catch(() => undefined);
      await server.stop();
    },
  };
}

/** A real 3-node JetStream cluster on loopback, with a connection that knows every node. */
export async function startCluster(
  size = 3,
  opts: { extraConfig?: string } = {},
): Promise<{ cluster: NatsCluster; nc: NatsConnection; stop: () => Promise<void> }> {
  const cluster = await NatsCluster.start(size, opts);
  const nc = await connectNats({ servers: cluster.urls, name: "test" });
  await waitForJetStream(nc, 60_000);
  await waitForPlacement(nc, size);
  return {
    cluster,
    nc,
    stop: async () => {
      await nc.close().catch(() => undefined);
      await cluster.stop();
    },
  };
}

/**
 * Waits until an asset with `replicas` replicas can be placed. The JetStream API answers as soon as
 * there is a meta leader, which may not know every peer yet: an R3 stream made then is refused with
 * "no suitable peers for placement" (seen on a fresh machine in nats-server.int). A memory stream
 * is made and deleted as the probe.
 */
async function waitForPlacement(nc: NatsConnection, replicas: number, timeoutMs = 60_000): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const name = `PLACEMENT_PROBE_${Math.random().toString(36).slice(2, 8)}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await jsm.streams.add({ name, subjects: [`placement-probe.${name}`], storage: "memory", num_replicas: replicas });
      await jsm.streams.delete(name);
      return;
    } catch (err) {
      if (!isNoPeers(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
