import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./cli.ts";

/**
 * The environment the package tests run npm, npx and the installed jetbus in: no NATS_URL (only
 * the flags given decide where a command connects), JSON logs at warn, npm's nags off.
 */
export function quietEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NATS_URL: "",
    FORCE_COLOR: "0",
    JETBUS_LOG_JSON: "1",
    JETBUS_LOG_LEVEL: "warn",
    npm_config_fund: "false",
    npm_config_audit: "false",
    npm_config_update_notifier: "false",
  };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The tarball `npm pack` makes of this checkout (its `prepack` builds dist/ first): what `npm
 * publish` would upload. Packed once per `npm test` run (bin/test.js sets JETBUS_TEST_RUN_DIR) and
 * shared by the package tests, under a lock: two packs at once would each delete and rebuild the
 * same dist/. Run alone, a test file packs its own.
 */
export async function packedTarball(): Promise<string> {
  const base = process.env.JETBUS_TEST_RUN_DIR ?? mkdtempSync(join(tmpdir(), "jetbus-pack-"));
  const out = join(base, "pack");
  const done = join(out, "tarball");
  const lock = join(base, "pack.lock");
  for (;;) {
    if (existsSync(done)) return readFileSync(done, "utf8");
    try {
      mkdirSync(lock);
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        // the holder has not written its pid yet, or just finished
      }
      // a holder that died mid-pack leaves its lock behind: take it over
      if (holder > 0 && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      writeFileSync(join(lock, "pid"), String(process.pid));
      mkdirSync(out, { recursive: true });
      const r = spawnSync("npm", ["pack", "--pack-destination", out, "--silent"], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 600_000,
        env: { ...process.env, npm_config_update_notifier: "false" },
      });
      if (r.status !== 0) throw new Error(`npm pack failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
      const tarball = join(out, r.stdout.trim().split("\n").at(-1)!);
      writeFileSync(done, tarball);
      return tarball;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
