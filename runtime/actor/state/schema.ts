import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { createAjv, jsonPath, SCHEMA_DIR } from "../../config/validate.ts";
import { SchemaViolationError } from "../../errors.ts";

/**
 * `schemas/state/<actor>.json`, when it exists: a staged state that does not fit is a
 * SchemaViolationError (not retryable: the handler would stage the same state again), so the
 * event is dead-lettered and nothing is committed.
 */
export class StateSchemas {
  private readonly ajv = createAjv();
  private readonly cache = new Map<string, ValidateFunction | null>();

  constructor(private readonly dir = join(SCHEMA_DIR, "state")) {}

  check(actor: string, state: unknown): void {
    const validate = this.validatorFor(actor);
    if (!validate || validate(state)) return;
    throw new SchemaViolationError(
      `state of ${actor}`,
      (validate.errors ?? []).map((e) => ({ path: jsonPath(e.instancePath), message: e.message ?? "invalid" })),
      `schemas/state/${actor}.json`,
    );
  }

  private validatorFor(actor: string): ValidateFunction | null {
    let v = this.cache.get(actor);
    if (v !== undefined) return v;
    const file = join(this.dir, `${actor}.json`);
    v = existsSync(file) ? this.ajv.compile(JSON.parse(readFileSync(file, "utf8")) as object) : null;
    this.cache.set(actor, v);
    return v;
  }
}
