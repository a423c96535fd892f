import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Ajv2020, ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import type { Problem } from "../errors.ts";
import { createAjv, jsonPath } from "./validate.ts";

/**
 * The JSON Schemas of one folder, `<name>.json` each (event data under `schemas/events`, actor
 * state under `schemas/state`), read and compiled once per name. A missing file is remembered
 * too, so a name without a schema costs one map lookup on every later check (the router and the
 * stateful commit path check on every event).
 */
export class SchemaFiles {
  /** Created with the first schema found: a command that meets none never loads ajv (ajv.ts). */
  private ajv?: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction | null>();

  constructor(readonly dir: string) {}

  /** The compiled schema of `name`, or null when the folder has no `<name>.json`. */
  validatorFor(name: string): ValidateFunction | null {
    let v = this.cache.get(name);
    if (v !== undefined) return v;
    const file = join(this.dir, `${name}.json`);
    v = existsSync(file) ? (this.ajv ??= createAjv()).compile(JSON.parse(readFileSync(file, "utf8")) as object) : null;
    this.cache.set(name, v);
    return v;
  }

  /** Every problem of the last failed validation, each with the JSON path it is at. */
  static problemsOf(validate: ValidateFunction): Problem[] {
    return (validate.errors ?? []).map(problemOf);
  }
}

function problemOf(e: ErrorObject): Problem {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "required") return { path: jsonPath(e.instancePath, String(p.missingProperty)), message: "is required" };
  if (e.keyword === "additionalProperties")
    return { path: jsonPath(e.instancePath, String(p.additionalProperty)), message: "unknown key (not allowed here)" };
  return { path: jsonPath(e.instancePath), message: e.message ?? "invalid" };
}
