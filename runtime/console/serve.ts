import { createServer } from "node:http";
import type { ConsoleDeps } from "./context.ts";
import { createConsoleHandler, type ConsoleHandlerOptions } from "./handler.ts";
import { sendJson } from "./http-util.ts";

export type ConsoleServer = Readonly<{ url: string; port: number; close(): Promise<void> }>;

/** `jetbus console`: the console alone on its own port, bound to `host` (127.0.0.1 unless told). */
export async function serveConsole(
  deps: ConsoleDeps,
  opts: ConsoleHandlerOptions & { port?: number; host?: string } = {},
): Promise<ConsoleServer> {
  const host = opts.host ?? "127.0.0.1";
  // bound to loopback, only local clients can reach it; bound elsewhere on purpose, it answers them
  const handler = createConsoleHandler(deps, { ...opts, public: opts.public ?? host !== "127.0.0.1" });
  const server = createServer((req, res) => {
    if (!handler.handle(req, res)) sendJson(res, 404, { error: `not found: ${req.url}`, code: "NOT_FOUND" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    port,
    close: () =>
      new Promise((r) => {
        handler.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
