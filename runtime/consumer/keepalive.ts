import type { JsMsg } from "@nats-io/jetstream";

/**
 * Keeps the ack deadlines of the deliveries a worker is on moving ("+WPI" every third of
 * ack_wait). Without it a handler that outlasts ack_wait (a slow call, a leader election stalling
 * its writes) gets its event redelivered while it still runs, and the processed marker, written
 * only at the end, cannot stop a second concurrent handling. A killed worker stops renewing, so
 * its events still come back after ack_wait.
 *
 * One timer per worker, armed only while deliveries are held, renews every delivery held longer
 * than a period; a timer per delivery cost a visible share of a no-op actor's dispatch time.
 */
export class AckKeepalive {
  private readonly held = new Map<JsMsg, number>();
  private readonly periodMs: number;
  private timer?: NodeJS.Timeout;

  constructor(ackWaitMs: number) {
    this.periodMs = Math.max(50, Math.floor(ackWaitMs / 3));
  }

  /** `now`: Date.now() of the batch the delivery came in (one clock read per batch, not per delivery). */
  hold(msg: JsMsg, now: number): void {
    this.held.set(msg, now);
    this.arm();
  }

  release(msg: JsMsg): void {
    this.held.delete(msg);
  }

  private renew(): void {
    this.timer = undefined;
    const due = Date.now() - this.periodMs;
    for (const [msg, since] of this.held) {
      if (since > due) continue;
      msg.working();
      this.held.set(msg, Date.now());
    }
    this.arm();
  }

  /** Stops renewing: deliveries still held (abandoned at shutdown) come back after ack_wait. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
  }

  private arm(): void {
    if (this.timer || this.held.size === 0) return;
    this.timer = setTimeout(() => this.renew(), this.periodMs);
    // renewing never keeps a process alive by itself: the handlers' own work does
    this.timer.unref();
  }
}
