import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError, ErrorCode, JetbusError, UsageError } from "../errors.ts";

/** Largest request body the API reads: a whole config document fits many times over. */
const MAX_BODY_BYTES = 1 << 20;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

const STATUS_OF: Partial<Record<string, number>> = {
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Usage]: 400,
  [ErrorCode.ConfigInvalid]: 422,
  [ErrorCode.EventInvalid]: 400,
  [ErrorCode.SchemaViolation]: 422,
  [ErrorCode.Timeout]: 504,
  [ErrorCode.NotReady]: 503,
};

/** A typed error as JSON with its code (and, for config errors, every problem with its JSON path). */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.end();
  if (err instanceof JetbusError) {
    const problems = err instanceof ConfigError ? { problems: err.problems } : {};
    return sendJson(res, STATUS_OF[err.code] ?? 500, { error: err.message, code: err.code, ...problems });
  }
  sendJson(res, 500, { error: (err as Error)?.message ?? String(err), code: "INTERNAL" });
}

/** The request body parsed as JSON; a UsageError when it is too big or not JSON. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new UsageError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`request body is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new UsageError("request body must be a JSON object");
  return v as Record<string, unknown>;
}

export function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1" || (address?.startsWith("127.") ?? false);
}
