// One chaos run per machine: the runs share the namespace names, the subnet and the leftover
// cleanup (which would tear down a second run's network). A lock file holds the running pid.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LOCK = join(tmpdir(), "jbchaos.lock");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the lock, or says which live run holds it. A lock left by a dead process is taken over. */
export function acquireLock(): string | undefined {
  try {
    writeFileSync(LOCK, String(process.pid), { flag: "wx" });
    return undefined;
  } catch {
    const holder = Number(readFileSync(LOCK, "utf8"));
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) return `another chaos run (pid ${holder}) is in progress (${LOCK})`;
    writeFileSync(LOCK, String(process.pid));
    return undefined;
  }
}

export function releaseLock(): void {
  try {
    if (Number(readFileSync(LOCK, "utf8")) === process.pid) rmSync(LOCK);
  } catch {
    /* not held */
  }
}
