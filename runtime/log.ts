import pino, { type Logger } from "pino";

export type { Logger };

const SECRET_KEYS = ["pass", "password", "token", "auth_token", "nkey_seed", "seed"];
/**
 * Where secrets can sit in a log record: at the top, one level down (`{nats: config.nats}`), or
 * two levels down (`{config}`). File paths (nkey_seed_file, creds_file, tls keys) are not
 * secrets and stay visible, which helps debugging.
 */
const REDACTED_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/**
 * Pretty lines only when a person watches: stderr is a terminal and JETBUS_LOG_JSON is not set.
 * Anything else (a pipe, a file, a container's log driver) gets one JSON object per line.
 */
export function prettyByDefault(stderr: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return stderr.isTTY === true && !env.JETBUS_LOG_JSON;
}

/**
 * JSON lines for machines; pretty lines when a person watches a terminal. Secrets in the
 * config (passwords, tokens, seeds) are redacted wherever they appear in a log record.
 */
export function createLogger(opts: { level?: string; name?: string; pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? prettyByDefault();
  return pino(
    {
      name: opts.name ?? "jetbus",
      level: opts.level ?? process.env.JETBUS_LOG_LEVEL ?? "info",
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    // sync: a line is in stderr before the next statement runs. Async (pino's default) hands each
    // write to libuv's thread pool, so a lifecycle line ("actor running", its port) could reach a
    // reader after the work it announces had started, or never (a crash before the pool ran it).
    // The cost is one write(2) per line; jetbus logs per lifecycle step and per failure, not per event.
    pretty
      ? pino.transport({ target: "pino-pretty", options: { destination: 2, colorize: true } })
      : pino.destination({ dest: 2, sync: true }),
  );
}
