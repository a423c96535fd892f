import { createRequire } from "node:module";
import type { Bindings, ChildLoggerOptions, Logger } from "pino";

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
 * A logger whose pino instance is made when it is first used, not when it is created: pino and
 * its dependencies are ~30 modules, about a tenth of a one-shot command's start-up CPU, and a
 * command that logs nothing (the usual `jetbus history`) never needs them. A child of a logger
 * not yet made is just as lazy. Every other access goes to the real logger, read afresh each
 * time (pino swaps a logger's methods when its level changes).
 */
export function lazyLogger(make: () => Logger): Logger {
  let real: Logger | undefined;
  const logger = () => (real ??= make());
  return new Proxy(Object.create(null) as Logger, {
    get(_, key) {
      if (key === "child" && !real)
        return (bindings: Bindings, options?: ChildLoggerOptions<never>) => lazyLogger(() => logger().child<never>(bindings, options));
      const target = logger();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set: (_, key, value) => Reflect.set(logger(), key, value),
    has: (_, key) => Reflect.has(logger(), key),
  });
}

/**
 * JSON lines for machines; pretty lines when a person watches a terminal. Secrets in the
 * config (passwords, tokens, seeds) are redacted wherever they appear in a log record.
 */
export function createLogger(opts: { level?: string; name?: string; pretty?: boolean } = {}): Logger {
  return lazyLogger(() => pinoLogger(opts));
}

function pinoLogger(opts: { level?: string; name?: string; pretty?: boolean }): Logger {
  const pino = createRequire(import.meta.url)("pino") as typeof import("pino");
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
