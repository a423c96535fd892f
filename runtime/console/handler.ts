import type { IncomingMessage, ServerResponse } from "node:http";
import { jetstreamManager } from "@nats-io/jetstream";
import { checkAdmin } from "./auth.ts";
import { loadAssets, pageWith, serveAsset, servePage } from "./assets.ts";
import { ConsoleContext, type ConsoleDeps } from "./context.ts";
import { isLoopback, readJson, sendError, sendJson } from "./http-util.ts";
import { gatherLiveFacts } from "./live-facts.ts";
import { LiveFeed } from "./live.ts";
import { ROUTES } from "./api.ts";

export type ConsoleHandler = Readonly<{
  /** Serves a console request; false when the path is not the console's. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}>;

export type ConsoleHandlerOptions = Readonly<{
  /** Answer clients that are not on loopback (default false: the console is for this machine unless configured). */
  public?: boolean;
  liveEveryMs?: number;
}>;

/**
 * Longest the page waits for a reading of the deployment to carry (one is usually tens of ms); past
 * it the page is served without one and draws from the live stream's first tick.
 */
const FIRST_PAINT_WAIT_MS = 1500;

/** The console: static assets at `/`, the live event stream at /api/live, and the JSON API under /api/. */
export function createConsoleHandler(deps: ConsoleDeps, opts: ConsoleHandlerOptions = {}): ConsoleHandler {
  const assets = loadAssets();
  const ctx = new ConsoleContext(deps);
  const jsm = jetstreamManager(deps.nc);
  const feed = new LiveFeed(async () => gatherLiveFacts(deps.nc, await jsm, deps.config), deps.logger, opts.liveEveryMs);
  const log = deps.logger.child({ component: "console" });

  const page = async (res: ServerResponse) => {
    // a failed read is the live feed's to report (it logs and the page shows it); the page comes without data then
    const snapshot = await feed.forPage(FIRST_PAINT_WAIT_MS).catch(() => undefined);
    servePage(res, pageWith(assets, snapshot));
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const route = ROUTES.find((r) => r.path === url.pathname);
    if (!route) return sendJson(res, 404, { error: `no such API: ${url.pathname}`, code: "NOT_FOUND" });
    if (route.method !== req.method) return sendJson(res, 405, { error: `${url.pathname} takes ${route.method}`, code: "USAGE" });
    if (route.admin) {
      const check = checkAdmin(req, deps.token);
      if (!check.ok) {
        log.warn({ action: url.pathname, remote: req.socket.remoteAddress, status: check.status }, "console: refused a change");
        return sendJson(res, check.status, { error: check.message, code: check.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN" });
      }
    }
    try {
      const body = req.method === "POST" ? await readJson(req) : {};
      const result = await route.run({ ctx, feed, query: url.searchParams, body, req });
      // every change is logged with what was asked and what came of it
      if (route.admin)
        log.info(
          {
            action: url.pathname,
            remote: req.socket.remoteAddress,
            request: body.text === undefined ? body : { text: `${String(body.text).length} chars` },
            result,
          },
          "console: change made",
        );
      sendJson(res, 200, result);
    } catch (err) {
      if (route.admin)
        log.warn({ action: url.pathname, remote: req.socket.remoteAddress, err: (err as Error).message }, "console: change failed");
      sendError(res, err);
    }
  };

  return {
    handle(req, res) {
      const url = new URL(req.url ?? "/", "http://console");
      const ours =
        url.pathname === "/" || url.pathname.startsWith("/api/") || url.pathname.startsWith("/assets/") || url.pathname === "/index.html";
      if (!ours) return false;
      if (!opts.public && !isLoopback(req.socket.remoteAddress)) {
        sendJson(res, 403, {
          error: "the console answers loopback clients only (set observability.console.public to open it)",
          code: "FORBIDDEN",
        });
        return true;
      }
      if (url.pathname === "/api/live") {
        feed.subscribe(req, res);
        return true;
      }
      if (url.pathname.startsWith("/api/")) {
        void api(req, res, url);
        return true;
      }
      if (url.pathname === "/" || url.pathname === "/index.html") {
        void page(res);
        return true;
      }
      const path = url.pathname.startsWith("/assets/") ? url.pathname.slice("/assets".length) : url.pathname;
      if (!serveAsset(assets, path, res)) sendJson(res, 404, { error: `no such file: ${url.pathname}`, code: "NOT_FOUND" });
      return true;
    },
    close: () => feed.stop(),
  };
}
