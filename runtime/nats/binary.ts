import { execFileSync, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { NatsServerMissingError } from "../errors.ts";

export const INSTALL_HINT = [
  "nats-server (2.9 or later) was not found. Install it with one of:",
  "  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y nats-server",
  "  macOS:         brew install nats-server",
  "  Docker:        docker run -p 4222:4222 nats:2.10 -js   (then pass --servers nats://127.0.0.1:4222)",
  "  Go:            go install github.com/nats-io/nats-server/v2@latest",
  "or point NATS_SERVER_BIN at the binary.",
].join("\n");

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/usr/local/bin", "/usr/bin"]);
  return dirs.map((d) => join(d, name)).find(isExecutable);
}

function isDebianLike(): boolean {
  if (!existsSync("/etc/os-release")) return false;
  return /^(ID|ID_LIKE)=.*(debian|ubuntu)/m.test(readFileSync("/etc/os-release", "utf8"));
}

function aptInstall(log: (line: string) => void): void {
  log("jetbus: nats-server not found; installing the Debian package with apt-get (running as root)");
  const opts: SpawnSyncOptions = { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } };
  const first = spawnSync("apt-get", ["install", "-y", "nats-server"], opts);
  if (first.status === 0) return;
  spawnSync("apt-get", ["update"], opts);
  spawnSync("apt-get", ["install", "-y", "nats-server"], opts);
}

/**
 * Where the nats-server binary is: NATS_SERVER_BIN, then PATH. On Debian/Ubuntu as root a
 * missing binary is installed with apt; anywhere else the error carries the install commands.
 */
export function findNatsServer(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new NatsServerMissingError(`NATS_SERVER_BIN=${fromEnv} is not an executable file.\n${INSTALL_HINT}`);
  }
  const found = onPath("nats-server");
  if (found) return found;
  if (process.getuid?.() === 0 && isDebianLike()) {
    aptInstall(log);
    const installed = onPath("nats-server");
    if (installed) return installed;
  }
  throw new NatsServerMissingError(INSTALL_HINT);
}

/** The server's version as `[major, minor, patch]`, read from `nats-server --version`. */
export function natsServerVersion(bin: string): [number, number, number] {
  const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m) throw new NatsServerMissingError(`cannot read the version of ${bin}: "${out.trim()}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
