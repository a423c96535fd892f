import { fileURLToPath } from "node:url";

/**
 * Node arguments that run this same jetbus CLI in a child process: the compiled entry when this
 * file is compiled (the installed package), the TypeScript source through tsx when it is not
 * (tests and a repository checkout), so a child never runs older code than its parent.
 */
export function jetbusNodeArgs(args: readonly string[]): string[] {
  const compiled = import.meta.url.endsWith(".js");
  const main = fileURLToPath(new URL(compiled ? "./main.js" : "./main.ts", import.meta.url));
  return compiled ? [main, ...args] : ["--import", "tsx", main, ...args];
}
