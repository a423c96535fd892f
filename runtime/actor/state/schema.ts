import { join } from "node:path";
import { SchemaFiles } from "../../config/schema-files.ts";
import { SCHEMA_DIR } from "../../config/validate.ts";
import { SchemaViolationError } from "../../errors.ts";

/**
 * `schemas/state/<actor>.json`, when it exists: a staged state that does not fit is a
 * SchemaViolationError (not retryable: the handler would stage the same state again), so the
 * event is dead-lettered and nothing is committed.
 */
export class StateSchemas {
  private readonly files: SchemaFiles;

  constructor(dir = join(SCHEMA_DIR, "state")) {
    this.files = new SchemaFiles(dir);
  }

  check(actor: string, state: unknown): void {
    const validate = this.files.validatorFor(actor);
    if (!validate || validate(state)) return;
    throw new SchemaViolationError(`state of ${actor}`, SchemaFiles.problemsOf(validate), `schemas/state/${actor}.json`);
  }
}
