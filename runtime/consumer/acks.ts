import type { JsMsg } from "@nats-io/jetstream";

/**
 * Acks collected over one turn of the event loop and sent together. Handlers finish at scattered
 * microtask depths, and the client flushes its socket on a microtask, so acking each one where it
 * finishes costs one socket write per event; one batch per macrotask makes it one write for many.
 */
export class AckBatcher {
  private pending: JsMsg[] = [];
  private scheduled = false;

  ack(msg: JsMsg): void {
    this.pending.push(msg);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends every ack collected so far (shutdown calls it before flushing the connection). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const m of batch) {
      try {
        m.ack();
      } catch {
        // a closed connection: the message comes back after ack_wait
      }
    }
  }
}
