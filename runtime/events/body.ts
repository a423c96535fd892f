// An event's data on the wire: JSON (or text) bodies, decoded strictly so bad bytes name the problem.
import { InvalidEventError } from "../errors.ts";

export const JSON_CONTENT_TYPE = "application/json";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** JSON media types: application/json with parameters, and any `+json` suffix. */
export function isJson(contentType: string): boolean {
  if (contentType === JSON_CONTENT_TYPE) return true;
  const ct = contentType.toLowerCase();
  return ct.startsWith(JSON_CONTENT_TYPE) || /\+json(;|$)/.test(ct);
}

export function parseData(bytes: Uint8Array, contentType: string): unknown {
  if (bytes.length === 0) return null;
  if (isJson(contentType)) return parseJson(bytes, "body");
  if (contentType.startsWith("text/")) return utf8(bytes, "body");
  throw new InvalidEventError(`unsupported content type ${JSON.stringify(contentType)}: jetbus events carry JSON or text`);
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  const text = utf8(bytes, what);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`${what} is not valid JSON: ${(err as Error).message}`, err);
  }
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new InvalidEventError(`${what} is not valid UTF-8`, err);
  }
}

