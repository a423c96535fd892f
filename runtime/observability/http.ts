import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Health } from "./health.ts";
import type { Metrics } from "./metrics.ts";

export type ObservabilityServer = Readonly<{ port: number; close(): Promise<void> }>;

/** Another part served on the same port (the console); returns false for a path it does not serve. */
export type ExtraHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** `/metrics` (Prometheus text), `/healthz` (process alive), `/readyz` (connected and consumers bound). */
export async function serveObservability(metrics: Metrics, health: Health, port = 0, host = "0.0.0.0", extra?: ExtraHandler): Promise<ObservabilityServer> {
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
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    // closeAllConnections: a console page keeps an event stream open, which would hold close() forever
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}
