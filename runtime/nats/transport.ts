import { createConnection, type Socket } from "node:net";
import { NatsConnectionImpl, setTransportFactory, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
// not part of the package's public surface, but the transport it installs for every connection
// (the version is pinned in package.json: a change of this class is seen by the tests below)
import { NodeTransport, nodeResolveHost } from "@nats-io/transport-node/lib/node_transport.js";

/**
 * The client's Node transport with one fix: a connection attempt that gives up closes its socket.
 *
 * nats.js 3.3.1 races each attempt against its `timeout`, then calls the transport's close(),
 * which returns early while the transport is not connected (no INFO read yet), and a dial still
 * waiting for the TCP handshake has handed no socket to the transport at all. Either way the
 * socket stays open: against a host that accepts and never speaks, until that host hangs up;
 * against one that drops the SYN, until the kernel gives up (about 2 min). A one-shot command had
 * reported NATS_UNREACHABLE after its 5 s and then did not exit, since an open socket keeps Node
 * running (issue 22: `history --limit 1` held for as long as the server kept the socket), and a
 * service retrying forever leaked one socket per attempt.
 * test/e2e/connect-unreachable.e2e.test.ts runs a command against a listener that never speaks.
 */
class ClosingTransport extends NodeTransport {
  /** The socket of a dial in progress, before the transport owns it. */
  private dialing?: Socket;

  /** As the client's dial (resolves once the TCP handshake is done), keeping the socket so close() can end it. */
  override dial(hp: { hostname: string; port: number }): Promise<Socket> {
    return new Promise((resolve, reject) => {
      let failure: Error | undefined;
      const socket = createConnection(hp.port, hp.hostname, () => {
        socket.removeAllListeners();
        this.dialing = undefined;
        resolve(socket);
      });
      this.dialing = socket;
      socket.on("error", (err) => (failure = err));
      socket.on("close", () => {
        socket.removeAllListeners();
        this.dialing = undefined;
        reject(failure ?? new Error(`connection to ${hp.hostname}:${hp.port} closed`));
      });
      socket.setNoDelay(true);
    });
  }

  override async close(err?: Error): Promise<void> {
    if (!this.connected) {
      // the attempt is over: `done` makes a dial that completes later drop its socket at once
      this.done = true;
      this.dialing?.destroy();
      this.socket?.destroy();
      return;
    }
    return super.close(err);
  }
}

/**
 * `connect()` of @nats-io/transport-node with the transport above. The client keeps one transport
 * factory per process (set by every connect call, read on every dial and reconnect), so it is
 * set again here each time.
 */
export function connectClosingAttempts(opts: NodeConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new ClosingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(opts);
}
