#!/usr/bin/env node
// Runs each test file in its own process (uvu, through tsx), a few at a time, and prints one
// closing line "N passed, N failed". Arguments narrow the run: `unit`, `integration`, `e2e`,
// or any substring of a file path.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const filters = process.argv.slice(2);
const parallel = Number(process.env.JETBUS_TEST_JOBS ?? 2);

function walk(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.ts") ? [p] : [];
  });
}

const files = walk(join(root, "test"))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

// Find (or install, on a fresh Debian machine) the nats-server once, before test files run two at a
// time: otherwise each would try to install it at the same moment.
if (!process.env.NATS_SERVER_BIN && files.some((f) => !f.includes(".unit.test."))) {
  const found = spawnSync(process.execPath, ["--import", "tsx", "runtime/cli/main.ts", "server", "--json"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (found.status !== 0) process.exit(found.status ?? 1);
  const { path, version } = JSON.parse(found.stdout);
  process.stdout.write(`nats-server ${version} at ${path}\n`);
  process.env.NATS_SERVER_BIN = path;
}

// Chromium for the console tests likewise: found, or on Debian installed once into .jetbus/chromium
// (test/helpers/chromium.ts says how; no system change), before files that drive a browser run.
const usesBrowser = (f) => readFileSync(join(root, f), "utf8").includes("helpers/browser.ts");
if (!process.env.JETBUS_CHROMIUM && files.some(usesBrowser)) {
  const found = spawnSync(process.execPath, ["--import", "tsx", "test/helpers/chromium.ts"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (found.status !== 0) process.exit(found.status ?? 1);
  process.env.JETBUS_CHROMIUM = found.stdout.trim();
  process.stdout.write(`chromium at ${process.env.JETBUS_CHROMIUM}\n`);
}

// shared by the files of this run: the package tests pack the tarball once (test/helpers/package.ts)
process.env.JETBUS_TEST_RUN_DIR = mkdtempSync(join(tmpdir(), "jetbus-test-run-"));

let passed = 0,
  failed = 0,
  skipped = 0;
const broken = [];

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: root, env: { ...process.env, FORCE_COLOR: "0" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), Number(process.env.JETBUS_TEST_FILE_TIMEOUT_MS ?? 600_000));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const p = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const s = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const f = Math.max(total - p - s, code === 0 ? 0 : 1);
      passed += p;
      failed += f;
      skipped += s;
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code !== 0 || f > 0) {
        broken.push(file);
        process.stdout.write(`FAIL ${file} (${secs}s, exit ${code ?? signal})\n${out}\n`);
      } else {
        process.stdout.write(`ok   ${file} (${p} passed, ${secs}s)\n`);
      }
      resolve();
    });
  });
}

// Tests that compare throughput across time windows run with nothing beside them: another test's
// cluster starting mid-window skews one window and not the other.
const ALONE = /cluster-scaling/;
for (const f of files.filter((f) => ALONE.test(f))) await runFile(f);
const queue = files.filter((f) => !ALONE.test(f));
await Promise.all(
  Array.from({ length: Math.min(parallel, queue.length) }, async () => {
    while (queue.length) await runFile(queue.shift());
  }),
);
rmSync(process.env.JETBUS_TEST_RUN_DIR, { recursive: true, force: true });
if (broken.length) process.stdout.write(`\nfailed files:\n${broken.map((f) => "  " + f).join("\n")}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
