import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";
import type { AckedRecord, SeenRecord, StoredRecord } from "./checker.ts";

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
  v[k] === undefined && optional ? undefined : typeof v[k] === "string" && (v[k] as string).length > 0 ? undefined : `"${k}" must be a non-empty string`;

export const validateAcked = (v: Record<string, unknown>) =>
  str(v, "id") ?? str(v, "key", true) ?? (v.to === undefined || (Array.isArray(v.to) && v.to.every((x) => typeof x === "string")) ? undefined : `"to" must be a list of actor names`);
export const validateStored = (v: Record<string, unknown>) => str(v, "id") ?? (v.seq === undefined || Number.isInteger(v.seq) ? undefined : `"seq" must be an integer`);
export const validateSeen = (v: Record<string, unknown>) => str(v, "actor") ?? str(v, "id");

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
