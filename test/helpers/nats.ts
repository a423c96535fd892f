import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
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
  return {
    cluster,
    nc,
    stop: async () => {
      await nc.close().catch(() => undefined);
      await cluster.stop();
    },
  };
}
