export type * from "./types.ts";
export { DEFAULT_CONFIG_FILE, configFrom, loadConfig, parseConfigText } from "./load.ts";
export { validateConfig, createAjv, SCHEMA_DIR } from "./validate.ts";
export { DURATION_FORMS, DURATION_UNITS_MS, formatDuration, msToNanos, parseDuration, parseTimePoint, TIME_FORMS } from "./duration.ts";
