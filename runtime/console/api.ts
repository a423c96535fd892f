import type { IncomingMessage } from "node:http";
import type { ConsoleContext } from "./context.ts";
import { eventDetail, searchEvents } from "./api-events.ts";
import { traceOf } from "./api-trace.ts";
import { listHeld, replayHeld } from "./api-dead-letters.ts";
import { applyText, configRevisions, rollbackTo, validateText } from "./api-config.ts";
import { clusterView } from "./api-cluster.ts";
import { stateOf } from "./api-state.ts";
import type { LiveFeed } from "./live.ts";

export type ApiCall = Readonly<{
  ctx: ConsoleContext;
  feed: LiveFeed;
  query: URLSearchParams;
  body: Record<string, unknown>;
  req: IncomingMessage;
}>;

export type Route = Readonly<{
  method: "GET" | "POST";
  path: string;
  /** Changes the deployment: needs the admin token, and is logged. */
  admin?: boolean;
  run(call: ApiCall): unknown;
}>;

/** The JSON API under /api/ (the event stream /api/live is served beside it). */
export const ROUTES: readonly Route[] = [
  { method: "GET", path: "/api/snapshot", run: (c) => c.feed.snapshot() },
  {
    method: "GET",
    path: "/api/session",
    run: (c) => ({ adminConfigured: c.ctx.deps.token !== undefined, stream: c.ctx.deps.config.store.stream }),
  },
  { method: "GET", path: "/api/events", run: (c) => searchEvents(c.ctx, c.query) },
  { method: "GET", path: "/api/events/detail", run: (c) => eventDetail(c.ctx, c.query) },
  { method: "GET", path: "/api/trace", run: (c) => traceOf(c.ctx, c.query) },
  { method: "GET", path: "/api/dead-letters", run: (c) => listHeld(c.ctx, c.query) },
  { method: "POST", path: "/api/dead-letters/replay", admin: true, run: (c) => replayHeld(c.ctx, c.body) },
  { method: "GET", path: "/api/config", run: (c) => configRevisions(c.ctx) },
  // validating stores nothing, so a read-only page may do it
  { method: "POST", path: "/api/config/validate", run: (c) => validateText(c.body) },
  { method: "POST", path: "/api/config/apply", admin: true, run: (c) => applyText(c.ctx, c.body) },
  { method: "POST", path: "/api/config/rollback", admin: true, run: (c) => rollbackTo(c.ctx, c.body) },
  { method: "GET", path: "/api/cluster", run: (c) => clusterView(c.ctx) },
  { method: "GET", path: "/api/state", run: (c) => stateOf(c.ctx, c.query) },
];
