import { NatsUrlInvalidError } from "../errors.ts";

/** The schemes the Node client connects with (a websocket URL needs another client). */
const SCHEMES = new Set(["nats", "tls"]);

/**
 * Why `text` is not a server URL the client can use, or undefined when it is. Accepts what the
 * client accepts: `host`, `host:port`, `nats://host:port`, `tls://...`, `[::1]:4222`, with
 * `user:pass@`. The client's own parse throws a bare "Invalid URL" for the rest.
 */
export function serverUrlProblem(text: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  const name = scheme?.[1]!.toLowerCase() ?? "nats";
  if (!SCHEMES.has(name)) return `the scheme ${name}:// is not nats:// or tls://`;
  const rest = scheme ? text.slice(scheme[0].length) : text;
  const hostPort = rest.replace(/^[^@/]*@/, "").split("/")[0]!;
  if (hostPort === "") return "it names no host";
  const parts = /^(\[[^\]]*\]|[^:[\]]*)(?::(.*))?$/.exec(hostPort);
  if (!parts) return `"${hostPort}" is not host:port`;
  const port = parts[2];
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) return `the port "${port}" is not a number from 0 to 65535`;
  try {
    new URL(`nats://${rest}`);
  } catch {
    return `"${hostPort}" is not a valid host`;
  }
  return undefined;
}

/** Each server of the list, checked: a bad one is a NatsUrlInvalidError naming it (bad input, exit 2), before any connection is tried. */
export function checkServerUrls(servers: readonly string[]): void {
  for (const s of servers) {
    const problem = serverUrlProblem(s);
    if (problem) throw new NatsUrlInvalidError(s, problem);
  }
}
