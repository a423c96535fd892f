import pino, { type Logger } from "pino";

export type { Logger };

/**
 * JSON lines for machines; pretty lines when a person watches a terminal. Secrets in the
 * config (passwords, tokens, seeds) are redacted wherever they appear in a log record.
 */
export function createLogger(opts: { level?: string; name?: string; pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? (process.stderr.isTTY && !process.env.JETBUS_LOG_JSON);
  return pino(
    {
      name: opts.name ?? "jetbus",
      level: opts.level ?? process.env.JETBUS_LOG_LEVEL ?? "info",
      redact: { paths: ["pass", "token", "*.pass", "*.token", "nats.pass", "nats.token", "*.nkey_seed_file", "password"], censor: "[redacted]" },
    },
    pretty ? pino.transport({ target: "pino-pretty", options: { destination: 2, colorize: true } }) : pino.destination(2),
  );
}
