import type { Runtime } from "./bootstrap.ts";

/**
 * Runs a process's stop with `cutShort` = "the connection to NATS is gone" (at once when it already
 * is, or the moment it drops during the stop). Then nothing in flight can be acked, a drain cannot
 * be confirmed, and waiting out a grace period (30 s) or a publish budget (50 s) only delays the exit:
 * every part stops waiting, and what it held unacked is redelivered by the server after ack_wait.
 * The line saying so is logged once, and only while the stop runs (a normal stop ends by closing
 * the connection, which is not news).
 */
export async function stopUnlessUnreachable<T>(
  rt: Pick<Runtime, "connection" | "logger">,
  stop: (cutShort: Promise<void>) => Promise<T>,
): Promise<T> {
  let stopping = true;
  const lost = rt.connection.lost().then(() => {
    if (stopping) rt.logger.warn("NATS is unreachable: not waiting for in-flight events (they are redelivered after ack_wait)");
  });
  try {
    return await stop(lost);
  } finally {
    stopping = false;
  }
}
