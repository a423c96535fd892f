import { existsSync, readFileSync } from "node:fs";
import { ConfigError, ConfigUnreadableError } from "../errors.ts";
import type { JetbusConfig } from "./types.ts";
import { validateConfig } from "./validate.ts";

export const DEFAULT_CONFIG_FILE = "jetbus.config.json";

/** Line and column (both from 1) of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** JSON.parse with the failure reported as a config problem at a line and column. */
export function parseConfigText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const pos = /position (\d+)/.exec(message);
    const offset = pos ? Number(pos[1]) : text.length;
    const { line, column } = lineAndColumn(text, offset);
    const reason = message.replace(/ in JSON at position \d+.*$/, "").replace(/, ".*" is not valid JSON$/, "");
    throw new ConfigError(source, [{ path: `line ${line}, column ${column}`, message: `invalid JSON: ${reason}` }]);
  }
}

/** Validates a document (already parsed) and returns the config with defaults, or throws every problem at once. */
export function configFrom(doc: unknown, source = "(inline)"): JetbusConfig {
  const { config, problems } = validateConfig(doc);
  if (!config) throw new ConfigError(source, problems);
  return config;
}

/**
 * Reads and validates a config file. With no path, `jetbus.config.json` in the working
 * directory is used when present, else the built-in defaults (embedded server, no actors).
 */
export function loadConfig(path?: string): JetbusConfig {
  const file = path ?? DEFAULT_CONFIG_FILE;
  if (!path && !existsSync(file)) return configFrom({}, "(defaults)");
  return configFrom(readConfigDocument(file), file);
}

/** The parsed JSON of a config file (a JSON syntax error is a ConfigError at a line and column). */
export function readConfigDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigUnreadableError(file, (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message, err);
  }
  return parseConfigText(text, file);
}
