import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { NatsServerMissingError } from "../errors.ts";
import { installDebianNatsServer } from "./provision.ts";
import { formatVersion, NATS_SERVER_FLOOR, versionAtLeast, type Version } from "./version.ts";
import { PACKAGE_ROOT } from "../package-root.ts";

export const INSTALL_HINT = [
  `nats-server ${formatVersion(NATS_SERVER_FLOOR)} or later is needed. Install it with one of:`,
  "  Debian/Ubuntu: jetbus installs Debian's current package by itself (needs apt-get and dpkg-deb)",
  "  macOS:         brew install nats-server",
  "  Docker:        docker run -p 4222:4222 nats:2.12 -js   (then pass --servers nats://127.0.0.1:4222)",
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

/** The nearest folder at or above `from` holding a package.json: the user's project. */
function projectRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

/** `.jetbus/bin` of the project in `cwd`, and of the jetbus package itself (shared by tests and temp projects). */
export function localBinDirs(cwd = process.cwd()): string[] {
  const own = join(PACKAGE_ROOT, ".jetbus", "bin");
  const project = join(projectRoot(cwd), ".jetbus", "bin");
  return project === own ? [project] : [project, own];
}

function canInstallFromDebian(): boolean {
  if (!existsSync("/etc/os-release") || !/^(ID|ID_LIKE)=.*debian/m.test(readFileSync("/etc/os-release", "utf8"))) return false;
  return onPath("apt-get") !== undefined && onPath("dpkg-deb") !== undefined;
}

/**
 * Where a nats-server at or above the floor is: NATS_SERVER_BIN (an explicit choice: too old is an
 * error), then the project's `.jetbus/bin`, then PATH. None, or only an older one: on Debian, the
 * current package is installed into the project's `.jetbus/bin` (said on stderr); elsewhere the
 * error carries the install commands.
 */
export function findNatsServer(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new NatsServerMissingError(`NATS_SERVER_BIN=${fromEnv} is not an executable file.\n${INSTALL_HINT}`);
    const v = natsServerVersion(fromEnv);
    if (!versionAtLeast(v, NATS_SERVER_FLOOR))
      throw new NatsServerMissingError(
        `NATS_SERVER_BIN=${fromEnv} is nats-server ${formatVersion(v)}, older than ${formatVersion(NATS_SERVER_FLOOR)}.\n${INSTALL_HINT}`,
      );
    return fromEnv;
  }
  const dirs = localBinDirs();
  const candidates = [...dirs.map((d) => join(d, "nats-server")), onPath("nats-server")].filter((p): p is string => !!p && isExecutable(p));
  let tooOld: string | undefined;
  for (const bin of candidates) {
    const v = natsServerVersion(bin);
    if (versionAtLeast(v, NATS_SERVER_FLOOR)) return bin;
    tooOld ??= `${bin} is nats-server ${formatVersion(v)}, older than ${formatVersion(NATS_SERVER_FLOOR)}`;
  }
  if (canInstallFromDebian()) {
    if (tooOld) log(`jetbus: ${tooOld}`);
    mkdirSync(dirs[0]!, { recursive: true });
    const bin = installDebianNatsServer(dirs[0]!, log);
    const v = natsServerVersion(bin);
    if (versionAtLeast(v, NATS_SERVER_FLOOR)) {
      log(`jetbus: installed nats-server ${formatVersion(v)} at ${bin}`);
      return bin;
    }
    throw new NatsServerMissingError(
      `Debian's nats-server package is ${formatVersion(v)}, older than ${formatVersion(NATS_SERVER_FLOOR)}.\n${INSTALL_HINT}`,
    );
  }
  throw new NatsServerMissingError(`${tooOld ? tooOld + ".\n" : "nats-server was not found.\n"}${INSTALL_HINT}`);
}

/** The server's version as `[major, minor, patch]`, read from `nats-server --version`. */
export function natsServerVersion(bin: string): Version {
  const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out);
  if (!m) throw new NatsServerMissingError(`cannot read the version of ${bin}: "${out.trim()}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
