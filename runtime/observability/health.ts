import type { NatsConnection } from "@nats-io/transport-node";

/** A readiness check answers whether one part of the process can do its job right now. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/**
 * Readiness for orchestrators: connected to NATS (not closed, not between reconnects) and
 * every registered part ready (e.g. an actor's consumers bound).
 */
export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();
  private connected = true;

  constructor(nc?: NatsConnection) {
    if (nc) void this.follow(nc);
  }

  private async follow(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnecting") this.connected = false;
      if (s.type === "reconnect") this.connected = true;
    }
    this.connected = false;
  }

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  /** Names of the parts that are not ready, empty when ready. */
  async notReady(): Promise<string[]> {
    const failing: string[] = this.connected ? [] : ["nats-connection"];
    for (const [name, check] of this.checks) {
      const ok = await Promise.resolve()
        .then(check)
        .catch(() => false);
      if (!ok) failing.push(name);
    }
    return failing;
  }
}

export type ReadinessGate = Readonly<{ open(): void; close(): void }>;

/**
 * A part that is ready only between open() and close(): not while it starts, and not while it
 * drains, so an orchestrator sends no work to a process that is binding or stopping. (Removing
 * the check at shutdown would do the opposite: the process would look ready while draining.)
 */
export function readinessGate(health: Health, name: string): ReadinessGate {
  let open = false;
  health.register(name, () => open);
  return {
    open: () => {
      open = true;
    },
    close: () => {
      open = false;
    },
  };
}
