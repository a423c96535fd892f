import type { Runtime } from "./bootstrap.ts";
import { consoleToken, createConsoleHandler, type ConsoleHandler } from "../console/mod.ts";

/** The console beside /metrics on a long-running process's HTTP port, unless observability.console.enabled is false. */
export function consoleOn(rt: Runtime): ConsoleHandler | undefined {
  const c = rt.config.observability.console;
  if (c && !c.enabled) return undefined;
  return createConsoleHandler({ nc: rt.nc, config: rt.config, logger: rt.logger, token: consoleToken(c) }, { public: c?.public ?? false });
}
