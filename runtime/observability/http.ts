import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { PortInUseError } from "../errors.ts";
import type { Health } from "./health.ts";
import type { Metrics } from "./metrics.ts";

export type ObservabilityServer = Readonly<{ host: string; port: number; close(): Promise<void> }>;

/** Loopback unless configured: /metrics and the console are nobody else's business by default (observability.http_host). */
export const DEFAULT_HTTP_HOST = "127.0.0.1";

/** Another part served on the same port (the console); returns false for a path it does not serve. */
export type ExtraHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** `/metrics` (Prometheus text), `/healthz` (process alive), `/readyz` (connected and consumers bound). */
export async function serveObservability(
  metrics: Metrics,
  health: Health,
  port = 0,
  host = DEFAULT_HTTP_HOST,
  extra?: ExtraHandler,
): Promise<ObservabilityServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (path === "/healthz") return reply(200, "ok\n");
    if (path === "/readyz") {
      void health.notReady().then((failing) => (failing.length ? reply(503, `not ready: ${failing.join(", ")}\n`) : reply(200, "ready\n")));
      return;
    }
    if (path === "/metrics") {
      void metrics.registry.metrics().then(
        (text) => reply(200, text, metrics.registry.contentType),
        (err: Error) => reply(500, err.message),
      );
      return;
    }
    if (extra?.(req, res)) return;
    reply(404, "not found: try /metrics, /healthz or /readyz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? new PortInUseError(host, port, err) : err));
    server.listen(port, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as { port: number }).port,
    // closeAllConnections: a console page keeps an event stream open, which would hold close() forever
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A URL to reach the server from this machine, and the address it listens on (they differ for 0.0.0.0). */
export function urlOf(server: Pick<ObservabilityServer, "host" | "port">, path = "/"): string {
  const host =
    server.host === "0.0.0.0" || server.host === "::" ? "127.0.0.1" : server.host.includes(":") ? `[${server.host}]` : server.host;
  return `http://${host}:${server.port}${path}`;
}
