import type { StateListing, StateRevision } from "./types.ts";

/** One key as `jetbus state list --json` prints it and the console shows it. */
export type StateKeyRow = Readonly<{ key: string; revision: number; changed: string; event: string | null; state: unknown }>;
export type StateListReport = Readonly<{ actor: string; total: number; keys: readonly StateKeyRow[] }>;

/** One stored revision as `jetbus state history --json` prints it and the console shows it. */
export type StateRevisionRow = Readonly<{ revision: number; time: string; event: string | null; deleted: boolean; state: unknown }>;
export type StateHistoryReport = Readonly<{ actor: string; key: string; revisions: readonly StateRevisionRow[] }>;

/** A listing as plain JSON: keys sorted as read, times as ISO strings, a missing event id as null. */
export function stateListReport(actor: string, listing: StateListing): StateListReport {
  return {
    actor,
    total: listing.total,
    keys: listing.entries.map((e) => ({
      key: e.key,
      revision: e.revision,
      changed: e.time.toISOString(),
      event: e.eventId ?? null,
      state: e.value,
    })),
  };
}

/** A key's revisions as plain JSON, oldest first; a delete has state null. */
export function stateHistoryReport(actor: string, key: string, revisions: readonly StateRevision[]): StateHistoryReport {
  return {
    actor,
    key,
    revisions: revisions.map((r) => ({
      revision: r.revision,
      time: r.time.toISOString(),
      event: r.eventId ?? null,
      deleted: r.deleted,
      state: r.deleted ? null : (r.value ?? null),
    })),
  };
}
