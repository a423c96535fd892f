import { ConfigError } from "../../errors.ts";
import {
  chainsOf,
  isUpcasterDefinition,
  upcasterProblems,
  type UpcasterDefinition,
  type UpcasterTable,
  type VersionChain,
} from "./upcasters.ts";

/**
 * The upcasters this process reads old events with, per event type. Process-wide, like the
 * registered handlers: set once at start-up from the config's `upcasters` module (or by an
 * embedding service with `useUpcasters`), read on every decode of an old event (upcast.ts) and by
 * every producer stamping a new event's version (createEvent).
 */
export const chains = new Map<string, VersionChain>();

/** Replaces the process's upcasters; a table with problems is a ConfigError listing each, and changes nothing. */
export function useUpcasters(upcasters: UpcasterDefinition | UpcasterTable, source = "upcasters"): void {
  const table = isUpcasterDefinition(upcasters) ? upcasters.table : upcasters;
  const problems = upcasterProblems(table);
  if (problems.length > 0) throw new ConfigError(source, problems);
  chains.clear();
  for (const [type, chain] of chainsOf(table)) chains.set(type, chain);
}

/** Forgets every upcaster (tests, and an embedding service reloading its project). */
export function clearUpcasters(): void {
  chains.clear();
}

/** The version new events of `type` are stamped with: one more than its highest upcaster, 1 without any. */
export function latestVersionOf(type: string): number {
  return chains.size === 0 ? 1 : (chains.get(type)?.latest ?? 1);
}
