import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { ConsoleSettings } from "../config/types.ts";

export const CONSOLE_TOKEN_ENV = "JETBUS_CONSOLE_TOKEN";

/** The admin token: the config's, else the environment's; undefined leaves the console read-only. */
export function consoleToken(settings: Partial<ConsoleSettings> | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return settings?.token || env[CONSOLE_TOKEN_ENV] || undefined;
}

export type AdminCheck = Readonly<{ ok: true }> | Readonly<{ ok: false; status: 401 | 403; message: string }>;

/**
 * Whether a request may change something (replay, apply, rollback): it must carry
 * `Authorization: Bearer <token>` and a token must be configured at all.
 */
export function checkAdmin(req: IncomingMessage, token: string | undefined): AdminCheck {
  if (!token)
    return {
      ok: false,
      status: 403,
      message: `the console is read-only: set observability.console.token or ${CONSOLE_TOKEN_ENV} to allow replay, apply and rollback`,
    };
  const header = req.headers.authorization ?? "";
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  if (!given) return { ok: false, status: 401, message: "this action needs the console admin token (Authorization: Bearer <token>)" };
  const a = Buffer.from(given),
    b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, status: 403, message: "wrong console admin token" };
  return { ok: true };
}
