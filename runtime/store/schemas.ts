import { resolve } from "node:path";
import { SchemaFiles } from "../config/schema-files.ts";
import { SchemaViolationError } from "../errors.ts";

/**
 * Event data schemas belong to the project using jetbus, not to the package: `schemas/events`
 * under the working directory (the project root when run through npm scripts or npx).
 */
export function defaultEventSchemaDir(): string {
  return resolve("schemas", "events");
}

/** Data schemas of event types: `schemas/events/<Type>.json`, each compiled once (SchemaFiles). */
export class EventSchemas {
  private readonly files: SchemaFiles;

  constructor(dir = defaultEventSchemaDir()) {
    this.files = new SchemaFiles(dir);
  }

  has(type: string): boolean {
    return this.files.validatorFor(type) !== null;
  }

  /** Throws SchemaViolationError listing every problem (with its path) when `data` does not fit the type's schema. */
  check(type: string, data: unknown): void {
    const validate = this.files.validatorFor(type);
    if (!validate || validate(data)) return;
    throw new SchemaViolationError(type, SchemaFiles.problemsOf(validate));
  }
}
