#!/usr/bin/env node
// `npm run build`, and `prepack` (`npm pack` and `npm publish` ship a fresh dist/; not `prepare`,
// which npm 11 lists as an install-time script when the tarball is installed): compiles runtime/
// and actors/ to dist/ with tsc, copies the files tsc does not emit but the compiled code reads
// beside itself (the console's assets/), and writes the config validator as ajv standalone code
// (runtime/config/config-validator.ts says why).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const ASSET_DIRS = ["runtime/console/assets"];

rmSync(`${root}dist`, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);
for (const dir of ASSET_DIRS) if (existsSync(`${root}${dir}`)) cpSync(`${root}${dir}`, `${root}dist/${dir}`, { recursive: true });

const validator = await import(pathToFileURL(`${root}dist/runtime/config/config-validator.js`).href);
writeFileSync(`${root}dist/runtime/config/config-validator.generated.cjs`, validator.configValidatorModule());
