/** Value of a `jetbus-presence` entry (key `<role>.<name>.<replica>`), refreshed every few seconds. */
export type PresenceValue = Readonly<{
  role: "actor" | "router";
  name: string;
  replica: string;
  host: string;
  pid: number;
  /** The pid namespace (Linux `/proc/self/ns/pid`): pids are compared only within one (see liveness.ts). */
  pidns?: string;
  startedAt: string;
  /** The beat period: readers judge an entry stale after a few missed beats (see liveness.ts). */
  everyMs?: number;
  inFlight: number;
  /** Routers: the config revision they route with. */
  configRevision?: number;
  /** Routers: whether this replica is pinned to the ordered lane right now. */
  orderedLane?: boolean;
  /** Cumulative counts since the replica started (see Tally): rates come from their differences. */
  counts?: Readonly<Record<string, number>>;
}>;

/** What the process reports on each beat; host, pid and start time are added by the heartbeat. */
export type PresenceState = Omit<PresenceValue, "host" | "pid" | "pidns" | "startedAt" | "everyMs">;
