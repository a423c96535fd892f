import { createRequire } from "node:module";
import type { Ajv2020 } from "ajv/dist/2020.js";

/** What ajv's 2020-12 entry module exports, as far as jetbus uses it. */
export type AjvModule = typeof import("ajv/dist/2020.js");

const require = createRequire(import.meta.url);

/**
 * ajv and ajv-formats, loaded on first use rather than at import: they are ~90 CommonJS modules,
 * about a quarter of a one-shot command's start-up CPU, and a command that validates no event
 * data (history, get, trace, status) needs neither; the config is checked by a validator
 * generated at build time (config-validator.ts). require() keeps the callers synchronous.
 */
export function loadAjv(): AjvModule {
  return require("ajv/dist/2020.js") as AjvModule;
}

/** One ajv instance for config and event schemas, with formats (date-time, email, uri, ...). */
export function createAjv(opts: { verbose?: boolean } = {}): Ajv2020 {
  const { Ajv2020 } = loadAjv();
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false, verbose: opts.verbose ?? false });
  (require("ajv-formats") as (a: Ajv2020) => void)(ajv);
  return ajv;
}
