#!/usr/bin/env node
// The jetbus command. Installed from npm it runs the compiled CLI in dist/ (built by `npm pack`):
// about half the start-up time of compiling TypeScript on the fly. In a repository checkout
// (runtime/ sources beside this file; the package does not ship them) it runs the sources through
// tsx, so tests and development never run an older build than the code.
import { existsSync } from "node:fs";

const source = new URL("../runtime/cli/main.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import(new URL("../dist/runtime/cli/main.js", import.meta.url).href);
}
