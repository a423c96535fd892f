import { ConfigError } from "../errors.ts";
import type { JetbusConfig } from "./types.ts";

/**
 * What the environment overrides in a loaded config: `JETBUS_HTTP_PORT` for observability.http_port,
 * `JETBUS_HTTP_HOST` for observability.http_host (the image sets 0.0.0.0: probes come from outside).
 * The shipped cluster config serves on port 0 (any free port, so several processes share one
 * machine); a container, alone in its network namespace, fixes the port its probes call.
 */
export function withEnvironment(config: JetbusConfig, env: NodeJS.ProcessEnv = process.env): JetbusConfig {
  const host = env.JETBUS_HTTP_HOST;
  if (host) config = { ...config, observability: { ...config.observability, http_host: host } };
  const raw = env.JETBUS_HTTP_PORT;
  if (raw === undefined || raw === "") return config;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535)
    throw new ConfigError("JETBUS_HTTP_PORT", [
      { path: "observability.http_port", message: `JETBUS_HTTP_PORT=${JSON.stringify(raw)} is not a port number (0-65535)` },
    ]);
  return { ...config, observability: { ...config.observability, http_port: port } };
}
