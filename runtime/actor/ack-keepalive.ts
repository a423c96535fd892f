import type { JsMsg } from "@nats-io/jetstream";

/**
 * Keeps a delivery's ack deadline moving while this worker is still on it ("+WPI" every third of
 * ack_wait). Without it a handler that outlasts ack_wait (a slow call, a leader election stalling
 * its writes) gets its event redelivered while it still runs, and the processed marker, written
 * only at the end, cannot stop a second concurrent handling. A killed worker stops renewing, so
 * its events still come back after ack_wait.
 */
export function keepAckDeadline(msg: JsMsg, ackWaitMs: number): { release(): void } {
  const timer = setInterval(() => msg.working(), Math.max(50, Math.floor(ackWaitMs / 3)));
  timer.unref();
  return { release: () => clearInterval(timer) };
}
