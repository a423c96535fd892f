import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const TYPESCRIPT = new Set([".ts", ".mts", ".cts", ".tsx"]);

let tsxRegistered: Promise<void> | undefined;

/**
 * TypeScript modules of the project (actors, aggregates, upcasters) load through tsx's loader
 * hooks, registered once and only when a `.ts` module is first loaded: a project of `.js` modules
 * never pays for tsx (~100 ms of start-up). Hooks, not tsx's scoped tsImport: a scoped import
 * loads a second copy of every dependency, and a second tsyringe would not know the classes the
 * first one builds (nor a second jetbus the definitions the first one made).
 */
function ensureTypeScriptLoader(): Promise<void> {
  tsxRegistered ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

/** A module path of the config (`module`, `upcasters`): relative to the config file's directory. */
export function projectPath(path: string, projectDir: string): string {
  return isAbsolute(path) ? path : resolve(projectDir, path);
}

export type ImportOptions = Readonly<{
  /** Appended to the module URL as a query: a new value loads the file again instead of the cached module (`up --watch`). */
  version?: number;
}>;

/**
 * Imports a module of the project (an absolute path). A missing file or one that fails to load
 * rejects with an Error whose message says which, for the caller to wrap in its own typed error.
 */
export async function importProjectModule(file: string, opts: ImportOptions = {}): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new Error(`module ${file} does not exist`);
  if (TYPESCRIPT.has(extname(file))) await ensureTypeScriptLoader();
  // the Reflect metadata polyfill before the module: its decorators may record metadata, and its
  // tsyringe import refuses to load without it (the CLI loads it only for commands that run actors)
  require("reflect-metadata");
  // a module of a project without "type": "module" is CommonJS: tsx loads it through require, whose
  // cache is keyed by file name and ignores the URL query, so a reload has to drop it there too
  if (opts.version !== undefined) delete require.cache[file];
  const url = pathToFileURL(file).href + (opts.version === undefined ? "" : `?v=${opts.version}`);
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`module ${file} failed to load: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
