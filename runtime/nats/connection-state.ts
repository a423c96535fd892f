import type { NatsConnection } from "@nats-io/transport-node";

/**
 * Whether a connection is up right now, followed from the client's status events: the client
 * keeps accepting publishes while it reconnects (buffered), so only these events tell a process
 * that nothing it sends can be acknowledged.
 */
export class ConnectionState {
  private up = true;
  private readonly listeners = new Set<(connected: boolean) => void>();

  constructor(nc: NatsConnection) {
    void this.follow(nc);
  }

  get connected(): boolean {
    return this.up;
  }

  /** Calls `fn` on every change (true: connected again); returns its removal. */
  onChange(fn: (connected: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves as soon as the connection is down: at once when it is already. */
  lost(): Promise<void> {
    if (!this.up) return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.onChange((c) => {
        if (c) return;
        off();
        resolve();
      });
    });
  }

  private set(connected: boolean): void {
    if (connected === this.up) return;
    this.up = connected;
    for (const fn of [...this.listeners]) fn(connected);
  }

  private async follow(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnecting") this.set(false);
        else if (s.type === "reconnect") this.set(true);
      }
    } catch {
      // the status iterator ends with the connection
    }
    this.set(false);
  }
}
