export type * from "./types.ts";
export { DEFAULT_CONFIG_FILE, configFrom, loadConfig, parseConfigText } from "./load.ts";
export { validateConfig, createAjv, SCHEMA_DIR } from "./validate.ts";
export { toMillis, toNanos } from "./duration.ts";
