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

/** Media types are case-insensitive (RFC 9110): `Text/Plain` is text. */
export function isText(contentType: string): boolean {
  return contentType.slice(0, 5).toLowerCase() === "text/";
}

/** What an event body can be: JSON or text; anything else cannot be decoded again after it is stored. */
export function isSupportedContentType(contentType: string): boolean {
  return isJson(contentType) || isText(contentType);
}

export function parseData(bytes: Uint8Array, contentType: string): unknown {
  if (bytes.length === 0) return null;
  if (isJson(contentType)) return parseJson(bytes, "body");
  if (isText(contentType)) return utf8(bytes, "body");
  throw new InvalidEventError(`unsupported content type ${JSON.stringify(contentType)}: jetbus events carry JSON or text`);
}

/**
 * Deepest nesting of arrays and objects in a JSON body. JSON.parse takes any depth, but
 * JSON.stringify recurses: a 5,000-level body (10 KB) decoded, then broke the router's re-encoding
 * of its copy with a RangeError, an event retried forever (found by codec-properties). Real event
 * data nests a few levels; 256 stays far below the stack.
 */
export const MAX_JSON_DEPTH = 256;

/** Whether JSON text nests deeper than MAX_JSON_DEPTH; one pass over the bytes, none for short bodies. */
export function nestsTooDeep(bytes: Uint8Array): boolean {
  if (bytes.length <= MAX_JSON_DEPTH * 2) return false; // each level takes an opening and a closing byte
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // the escaped byte cannot end the string
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  if (nestsTooDeep(bytes)) throw new InvalidEventError(`${what} nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
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
