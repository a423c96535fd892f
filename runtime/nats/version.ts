export type Version = readonly [number, number, number];

/**
 * The oldest nats-server jetbus runs on: 2.12, for stateful actors' atomic batch publish (state
 * and processed marker in one write) and message schedules (durable timers); 2.11 brought consumer
 * priority groups with pinning, per-message TTL and batched direct gets; 2.10 multi-filter
 * consumers and `sync_interval`. 2.9.10 (Debian stable) also panicked in our CI when three routers
 * created the same streams at once.
 */
export const NATS_SERVER_FLOOR: Version = [2, 12, 0];

export function parseVersion(text: string): Version | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function versionAtLeast(v: Version, floor: Version): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== floor[i]) return v[i]! > floor[i]!;
  return true;
}

export function formatVersion(v: Version): string {
  return v.join(".");
}
