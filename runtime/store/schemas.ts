import { existsSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { SchemaFiles } from "../config/schema-files.ts";
import { SchemaViolationError } from "../errors.ts";
import { latestVersionOf } from "../events/versions/registry.ts";
import { upcast } from "../events/versions/upcast.ts";
import type { Event } from "../events/types.ts";

/**
 * Event data schemas belong to the project using jetbus, not to the package: `schemas/events`
 * under the working directory (the project root when run through npm scripts or npx).
 */
export function defaultEventSchemaDir(): string {
  return resolve("schemas", "events");
}

/** `<Type>@<N>.json`: the schema of version N of a type whose latest version is `<Type>.json` (`@` is in no type name). */
const VERSIONED_FILE = /^(.+)@(0|[1-9][0-9]*)\.json$/;

/**
 * Data schemas of event types: `schemas/events/<Type>.json` (the type's latest version), and
 * `schemas/events/<Type>@<N>.json` for older versions still published; each compiled once (SchemaFiles).
 */
export class EventSchemas {
  private readonly files: SchemaFiles;
  /** Types with a schema of an older version, read from the folder once. */
  private versioned?: ReadonlySet<string>;

  constructor(dir = defaultEventSchemaDir()) {
    this.files = new SchemaFiles(dir);
  }

  has(type: string): boolean {
    return this.files.validatorFor(type) !== null;
  }

  /** Throws SchemaViolationError listing every problem (with its path) when `data` does not fit the type's schema (`<Type>.json`). */
  check(type: string, data: unknown): void {
    const validate = this.files.validatorFor(type);
    if (!validate || validate(data)) return;
    throw new SchemaViolationError(type, SchemaFiles.problemsOf(validate));
  }

  /**
   * check() for an event of any version: version N is checked against `<Type>@<N>.json` when that
   * file exists; else against `<Type>.json`, an N older than the type's latest version
   * (events/versions) as its upcasters bring it up to that version. An event of the latest
   * version without older schema files costs what check() costs.
   */
  checkEvent(event: Event): void {
    const { type, dataversion } = event;
    if (this.versionedTypes().has(type) && this.files.validatorFor(`${type}@${dataversion}`)) {
      const validate = this.files.validatorFor(`${type}@${dataversion}`)!;
      if (validate(event.data)) return;
      throw new SchemaViolationError(type, SchemaFiles.problemsOf(validate), `schemas/events/${type}@${dataversion}.json`);
    }
    const validate = this.files.validatorFor(type);
    if (!validate) return;
    const data = dataversion < latestVersionOf(type) ? upcast(event).data : event.data;
    if (validate(data)) return;
    throw new SchemaViolationError(type, SchemaFiles.problemsOf(validate));
  }

  private versionedTypes(): ReadonlySet<string> {
    if (this.versioned) return this.versioned;
    const found = new Set<string>();
    if (existsSync(this.files.dir)) for (const f of readdirSync(this.files.dir)) found.add(VERSIONED_FILE.exec(f)?.[1] ?? "");
    found.delete("");
    return (this.versioned = found);
  }
}
