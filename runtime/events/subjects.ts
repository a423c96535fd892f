import { InvalidEventError } from "../errors.ts";

export const EVENTS_PREFIX = "events";

/** An event type becomes one or more subject tokens: letters, digits, `_`, `-`, and `.` between tokens. */
const TYPE_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function assertEventType(type: string): void {
  if (!TYPE_PATTERN.test(type)) {
    throw new InvalidEventError(
      `event type ${JSON.stringify(type)} is not valid: use letters, digits, "_", "-" and "." between words (it becomes the subject events.<type>)`,
    );
  }
}

export function subjectForType(type: string, prefix = EVENTS_PREFIX): string {
  assertEventType(type);
  return `${prefix}.${type}`;
}

export function typeFromSubject(subject: string, prefix = EVENTS_PREFIX): string {
  if (!subject.startsWith(prefix + ".") || subject.length === prefix.length + 1) {
    throw new InvalidEventError(`subject ${JSON.stringify(subject)} carries no event type (expected ${prefix}.<type>)`);
  }
  return subject.slice(prefix.length + 1);
}

/**
 * Any string as one subject token (ids and correlation ids in index subjects and KV keys):
 * base64url of its UTF-8 bytes, so it is reversible and never holds `.`, `*` or `>`.
 */
export function tokenFor(value: string): string {
  return Buffer.from(value, "utf8").toString("base64url") || "_";
}
