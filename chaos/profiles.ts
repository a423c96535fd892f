// Run profiles. short: CI, every fault kind once, ~6 min on 2 shared cores. Rates are tens of events
// per second: on the shared development machine (load average ~30) the ordered actor handled 5 to
// 37 events/s (its partitions take one event at a time, each with a marker read and write); at
// 150/s it fell minutes behind, at 40/s the short run took 8.3 min, most of it draining. long: the
// results in docs/guides/faults.md, every kind at least once plus 20 more faults of random kinds.
export type Profile = Readonly<{
  name: string;
  /** Events per second, all keys together. */
  rate: number;
  keys: number;
  /** Aggregate commands per second, all commanders together, on `accounts` accounts. */
  commands: number;
  accounts: number;
  /** Faults after the one of each kind. */
  extraFaults: number;
  /** Pause after each healed fault before the next (ms, seeded). */
  recoveryMs: [number, number];
  /** Longest wait for every acked event to be handled once the faults are over. */
  drainMs: number;
}>;

export const PROFILES = {
  short: { name: "short", rate: 20, keys: 16, commands: 10, accounts: 20, extraFaults: 0, recoveryMs: [3_000, 6_000], drainMs: 240_000 },
  long: { name: "long", rate: 25, keys: 32, commands: 10, accounts: 20, extraFaults: 20, recoveryMs: [5_000, 15_000], drainMs: 600_000 },
} as const satisfies Record<string, Profile>;
