import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { createAjv } from "../config/validate.ts";
import { jsonPath } from "../config/validate.ts";
import { SchemaViolationError, type Problem } from "../errors.ts";

/**
 * Event data schemas belong to the project using jetbus, not to the package: `schemas/events`
 * under the working directory (the project root when run through npm scripts or npx).
 */
export function defaultEventSchemaDir(): string {
  return resolve("schemas", "events");
}

function problemOf(e: ErrorObject): Problem {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "required") return { path: jsonPath(e.instancePath, String(p.missingProperty)), message: "is required" };
  if (e.keyword === "additionalProperties")
    return { path: jsonPath(e.instancePath, String(p.additionalProperty)), message: "unknown key (not allowed here)" };
  return { path: jsonPath(e.instancePath), message: e.message ?? "invalid" };
}

/**
 * Data schemas of event types: `schemas/events/<Type>.json`, read and compiled once per type
 * (a missing file is remembered too, so types without a schema cost one map lookup).
 */
export class EventSchemas {
  private readonly ajv = createAjv();
  private readonly cache = new Map<string, ValidateFunction | null>();

  constructor(private readonly dir = defaultEventSchemaDir()) {}

  has(type: string): boolean {
    return this.validatorFor(type) !== null;
  }

  /** Throws SchemaViolationError listing every problem (with its path) when `data` does not fit the type's schema. */
  check(type: string, data: unknown): void {
    const validate = this.validatorFor(type);
    if (!validate || validate(data)) return;
    throw new SchemaViolationError(type, (validate.errors ?? []).map(problemOf));
  }

  private validatorFor(type: string): ValidateFunction | null {
    let v = this.cache.get(type);
    if (v !== undefined) return v;
    const file = join(this.dir, `${type}.json`);
    v = existsSync(file) ? this.ajv.compile(JSON.parse(readFileSync(file, "utf8")) as object) : null;
    this.cache.set(type, v);
    return v;
  }
}
