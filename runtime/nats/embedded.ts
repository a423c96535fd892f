import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createConnection } from "node:net";
import { NatsServer } from "./server.ts";

/**
 * The embedded server of `jetbus up` (or `npm start`) announces its URL in a file next to its
 * store, so `jetbus pub` in another terminal joins it instead of starting a second server on
 * the same store.
 */
export type EmbeddedServer = Readonly<{ url: string; server?: NatsServer; stop(): Promise<void> }>;

function announceFile(storeDir: string): string {
  return join(dirname(resolve(storeDir)), "embedded.json");
}

function reachable(url: string): Promise<boolean> {
  const m = /:(\d+)$/.exec(url);
  if (!m) return Promise.resolve(false);
  return new Promise((res) => {
    const sock = createConnection({ host: "127.0.0.1", port: Number(m[1]) });
    sock.setTimeout(500, () => (sock.destroy(), res(false)));
    sock.once("data", (b) => (sock.destroy(), res(b.toString().startsWith("INFO "))));
    sock.once("error", () => res(false));
  });
}

/** Joins the embedded server already running on this store, or starts one. */
export async function useEmbeddedServer(storeDir: string, port = 0): Promise<EmbeddedServer> {
  const file = announceFile(storeDir);
  if (existsSync(file)) {
    try {
      const { url } = JSON.parse(readFileSync(file, "utf8")) as { url: string };
      if (await reachable(url)) return { url, stop: async () => undefined };
    } catch {
      // a stale or half-written file: start our own server below
    }
  }
  const server = await NatsServer.start({ storeDir, port });
  writeFileSync(file, JSON.stringify({ url: server.url, pid: process.pid }) + "\n");
  return {
    url: server.url,
    server,
    async stop() {
      await server.stop();
      rmSync(file, { force: true });
    },
  };
}
