import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type CliRun = Readonly<{ code: number | null; stdout: string; stderr: string }>;

/**
 * The real `jetbus` CLI in its own process, as a user runs it from the repo root. NATS_URL is
 * cleared so only the flags given decide where it connects; logs stay quiet unless asked.
 */
export function runJetbus(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 90_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/jetbus.js", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NATS_URL: "", FORCE_COLOR: "0", JETBUS_LOG_JSON: "1", JETBUS_LOG_LEVEL: "warn", ...env },
    });
    let stdout = "",
      stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
