import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";
import type { AckedRecord, SeenRecord, StoredRecord } from "./checker.ts";
import type { FaultRecord } from "./verdict.ts";

/**
 * JSON lines, one record per line, blank lines ignored. A bad line is a UsageError naming the
 * file and line, so an operator fixes the recorder rather than trusting a partial count.
 */
export function parseJsonl<T>(text: string, source: string, validate: (v: Record<string, unknown>) => string | undefined): T[] {
  const out: T[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new UsageError(`${source}:${i + 1}: not JSON: ${(err as Error).message}`);
    }
    const problem = v && typeof v === "object" && !Array.isArray(v) ? validate(v as Record<string, unknown>) : "not a JSON object";
    if (problem) throw new UsageError(`${source}:${i + 1}: ${problem}`);
    out.push(v as T);
  });
  return out;
}

const str = (v: Record<string, unknown>, k: string, optional = false) =>
  v[k] === undefined && optional
    ? undefined
    : typeof v[k] === "string" && (v[k] as string).length > 0
      ? undefined
      : `"${k}" must be a non-empty string`;

export const validateAcked = (v: Record<string, unknown>) =>
  str(v, "id") ??
  str(v, "key", true) ??
  (v.to === undefined || (Array.isArray(v.to) && v.to.every((x) => typeof x === "string"))
    ? undefined
    : `"to" must be a list of actor names`);
export const validateStored = (v: Record<string, unknown>) =>
  str(v, "id") ?? (v.seq === undefined || Number.isInteger(v.seq) ? undefined : `"seq" must be an integer`);
const num = (v: Record<string, unknown>, k: string, optional = true) =>
  (v[k] === undefined && optional) || (typeof v[k] === "number" && Number.isFinite(v[k])) ? undefined : `"${k}" must be a number`;
export const validateSeen = (v: Record<string, unknown>) => str(v, "actor") ?? str(v, "id") ?? num(v, "pid") ?? num(v, "at");
export const validateFault = (v: Record<string, unknown>) =>
  str(v, "kind") ?? str(v, "target", true) ?? num(v, "start", false) ?? num(v, "end") ?? num(v, "pid");
export const validateSent = (v: Record<string, unknown>) => str(v, "id");

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export const readAcked = (file: string) => parseJsonl<AckedRecord>(read(file), file, validateAcked);
export const readStored = (file: string) => parseJsonl<StoredRecord>(read(file), file, validateStored);
export const readSeen = (file: string) => parseJsonl<SeenRecord>(read(file), file, validateSeen);
export const readFaults = (file: string) => parseJsonl<FaultRecord>(read(file), file, validateFault);
/** Distinct event ids in a file of `{"id"}` lines: what the publishers tried to publish. */
export const countSent = (file: string) => new Set(parseJsonl<{ id: string }>(read(file), file, validateSent).map((r) => r.id)).size;

/** Handlings from several files (one per process) in one order: by `at` when every record has one, else as given. */
export function mergeSeen(lists: readonly (readonly SeenRecord[])[]): SeenRecord[] {
  const all = lists.flat();
  return all.every((s) => typeof s.at === "number") ? all.sort((a, b) => a.at! - b.at!) : all;
}
