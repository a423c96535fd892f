import type { Problem } from "../../errors.ts";
import { assertEventType } from "../subjects.ts";
import type { Event } from "../types.ts";

/**
 * Takes an event's data from version N of its type to version N+1. Pure and total over the
 * version-N data it may meet: it runs wherever an old event is read (aggregate loads, actor
 * deliveries, replays), any number of times, and is never stored back.
 */
export type Upcaster<From = never, To = unknown> = (data: From, event: Event<From>) => To;

/** Per event type, the upcaster from each version N (the key) to N+1: `{ Deposited: { 1: (v1) => v2 } }`. */
export type UpcasterTable = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

const UPCASTERS = Symbol.for("jetbus.upcasters");

/** What `defineUpcasters` returns: the default export of the module the config's `upcasters` names. */
export type UpcasterDefinition = Readonly<{ [UPCASTERS]: true; table: UpcasterTable }>;

/**
 * The upcasters of a project, per event type and version:
 *
 * ```ts
 * export default defineUpcasters({
 *   Deposited: { 1: (data: DepositedV1): Deposited => ({ ...data, currency: "EUR" }) },
 * });
 * ```
 * A type's latest version is one more than its highest upcaster (2 here); jetbus stamps new
 * events with it and brings older ones up to it, step by step, when they are read.
 */
export function defineUpcasters<T extends { readonly [type: string]: { readonly [from: number]: Upcaster<never, unknown> } }>(
  table: T,
): UpcasterDefinition {
  return { [UPCASTERS]: true, table: table as unknown as UpcasterTable };
}

export function isUpcasterDefinition(v: unknown): v is UpcasterDefinition {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[UPCASTERS] === true;
}

/** One type's chain: the upcaster from each version `first` .. `latest - 1`. */
export type VersionChain = Readonly<{ first: number; latest: number; steps: readonly Upcaster<unknown>[] }>;

/**
 * Every problem of a table (paths like `Deposited.1`): a type that is not a valid event type, a
 * key that is not a whole number, a value that is not a function, a gap between versions.
 */
export function upcasterProblems(table: UpcasterTable): Problem[] {
  const problems: Problem[] = [];
  if (typeof table !== "object" || table === null || Array.isArray(table))
    return [{ path: "(upcasters)", message: "must be an object: { EventType: { fromVersion: (data) => newData } }" }];
  for (const [type, steps] of Object.entries(table)) {
    try {
      assertEventType(type);
    } catch (err) {
      problems.push({ path: type, message: (err as Error).message });
      continue;
    }
    if (typeof steps !== "object" || steps === null || Array.isArray(steps)) {
      problems.push({
        path: type,
        message: "must be an object of upcasters keyed by the version they take an event from: { 1: (data) => ... }",
      });
      continue;
    }
    const versions: number[] = [];
    for (const [key, fn] of Object.entries(steps)) {
      if (!/^(0|[1-9][0-9]{0,8})$/.test(key)) {
        problems.push({ path: `${type}.${key}`, message: "must be a whole number: the version the upcaster takes an event from" });
        continue;
      }
      if (typeof fn !== "function")
        problems.push({ path: `${type}.${key}`, message: `must be a function (data, event) => data of version ${Number(key) + 1}` });
      versions.push(Number(key));
    }
    if (versions.length === 0) problems.push({ path: type, message: "has no upcasters" });
    versions.sort((a, b) => a - b);
    for (let i = 1; i < versions.length; i++)
      if (versions[i] !== versions[i - 1]! + 1)
        problems.push({
          path: type,
          message: `has upcasters from version ${versions[i - 1]} and ${versions[i]} but none from ${versions[i - 1]! + 1}: each takes one version to the next`,
        });
  }
  return problems;
}

/** The chains of a table that upcasterProblems found nothing wrong with. */
export function chainsOf(table: UpcasterTable): Map<string, VersionChain> {
  const chains = new Map<string, VersionChain>();
  for (const [type, steps] of Object.entries(table)) {
    const versions = Object.keys(steps)
      .map(Number)
      .sort((a, b) => a - b);
    chains.set(type, {
      first: versions[0]!,
      latest: versions[versions.length - 1]! + 1,
      steps: versions.map((v) => steps[v] as Upcaster<unknown>),
    });
  }
  return chains;
}
