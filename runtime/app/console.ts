import type { Runtime } from "./bootstrap.ts";
import { consoleToken } from "../console/auth.ts";
import { createConsoleHandler, type ConsoleHandler } from "../console/handler.ts";
import { serveObservability, type ObservabilityServer } from "../observability/http.ts";

/** The console beside /metrics on a long-running process's HTTP port, unless observability.console.enabled is false. */
export function consoleOn(rt: Runtime): ConsoleHandler | undefined {
  const c = rt.config.observability.console;
  if (c && !c.enabled) return undefined;
  return createConsoleHandler({ nc: rt.nc, config: rt.config, logger: rt.logger, token: consoleToken(c) }, { public: c?.public ?? false });
}

/** /metrics, /healthz, /readyz and the console (consoleOn) on observability.http_port, as `up` and `router` serve them. */
export async function serveHttpWithConsole(rt: Runtime): Promise<{ http: ObservabilityServer; ui: ConsoleHandler | undefined }> {
  const ui = consoleOn(rt);
  try {
    const http = await serveObservability(
      rt.metrics,
      rt.health,
      rt.config.observability.http_port,
      rt.config.observability.http_host,
      ui?.handle,
    );
    return { http, ui };
  } catch (err) {
    ui?.close();
    throw err;
  }
}
