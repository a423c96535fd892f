import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";

/**
 * Logs what happens to a connection after it is made: which server was lost, each reconnect
 * attempt, which server it is back on. `onChange` hears connected (true) / not (false).
 * Ends when the connection closes.
 */
export function logConnection(
  nc: NatsConnection,
  logger: Logger,
  servers: readonly string[],
  onChange: (connected: boolean) => void = () => undefined,
): void {
  const log = logger.child({ component: "nats" });
  void (async () => {
    let attempts = 0;
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        attempts = 0;
        onChange(false);
        log.warn({ server: s.server }, "disconnected from NATS; reconnecting");
      } else if (s.type === "reconnecting") {
        attempts++;
        // one line per attempt for the first ten, then one per hundred: the client retries every 250ms
        if (attempts <= 10 || attempts % 100 === 0) log.warn({ attempt: attempts, servers }, "reconnecting to NATS");
      } else if (s.type === "reconnect") {
        onChange(true);
        log.info({ server: s.server, attempts }, "reconnected to NATS");
      }
    }
    onChange(false);
  })().catch(() => undefined);
}
