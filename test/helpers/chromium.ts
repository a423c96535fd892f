// The headless Chromium the console tests drive (through playwright-core, never a downloaded
// browser build). Found like `jetbus server` finds nats-server, and on Debian installed the same
// way when missing: no system change. Run as a script it prints the path (bin/test.js does that
// once before the test files, so two files never install at the same moment).
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { privateAptOptions } from "../../runtime/nats/provision.ts";
import { REPO_ROOT } from "./cli.ts";

/** Debian's chromium packages install these; either drives the tests. */
const SYSTEM = ["/usr/bin/chromium", "/usr/bin/chromium-headless-shell"];
/** The private copy: `.jetbus/chromium/` of the checkout, beside `.jetbus/bin/nats-server`. */
export const PRIVATE_DIR = join(REPO_ROOT, ".jetbus", "chromium");
/**
 * What the private copy downloads: the headless shell (the browser without its windowing toolkit,
 * about half the libraries of `chromium`) and the fonts Debian's `chromium` recommends, so pages
 * render with the same faces as on a machine with the full package.
 */
const PACKAGES = ["chromium-headless-shell", "fonts-liberation", "fonts-dejavu-core"];

const onPath = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;

function canInstallFromDebian(): boolean {
  if (!existsSync("/etc/os-release") || !/^(ID|ID_LIKE)=.*debian/m.test(readFileSync("/etc/os-release", "utf8"))) return false;
  return onPath("apt-get") && onPath("dpkg-deb");
}

/**
 * Where Chromium is: JETBUS_CHROMIUM (an explicit choice: it must exist), Debian's packages, then
 * the private copy. None: on Debian with apt-get and dpkg-deb, the private copy is installed
 * (said on stderr); elsewhere an error says what to install. Never a skip: a console test without
 * a browser fails.
 */
export function findChromium(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): string {
  const fromEnv = process.env.JETBUS_CHROMIUM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`JETBUS_CHROMIUM=${fromEnv} does not exist`);
    return fromEnv;
  }
  const found = [...SYSTEM, join(PRIVATE_DIR, "chromium")].find(existsSync);
  if (found) return found;
  if (!canInstallFromDebian())
    throw new Error(
      "the console tests need Chromium: install Debian's or Ubuntu's chromium package, or set JETBUS_CHROMIUM to a Chromium binary",
    );
  return installPrivateChromium(PRIVATE_DIR, log);
}

/** `rel` and the folders below it, `depth` levels down, that hold a `*.so` or `*.so.N` file; paths relative to `root`. */
function foldersWithSharedObjects(root: string, rel: string, depth: number): string[] {
  const dir = join(root, rel);
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir, { withFileTypes: true });
  const here = entries.some((e) => !e.isDirectory() && /\.so(\.\d+)*$/.test(e.name)) ? [rel] : [];
  const below =
    depth > 0 ? entries.filter((e) => e.isDirectory()).flatMap((e) => foldersWithSharedObjects(root, join(rel, e.name), depth - 1)) : [];
  return [...here, ...below];
}

function run(cmd: string, args: readonly string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.filter((a) => !a.startsWith("-")).join(" ")} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim()}`,
    );
}

/**
 * Debian's headless Chromium and the libraries and fonts it needs that this system lacks, into
 * `dir` without touching the system: `apt-get install --download-only` through private package
 * lists and cache (the system's sources and its list of installed packages decide what is
 * missing), every .deb unpacked with `dpkg-deb -x`, and a `chromium` script that runs the browser
 * with those libraries and fonts. About 60 MB for the browser plus its libraries: a fresh minimal
 * Debian 12 lacks about a hundred.
 */
export function installPrivateChromium(dir: string, log: (line: string) => void): string {
  mkdirSync(join(dir, ".."), { recursive: true });
  const work = mkdtempSync(`${dir}.install-`);
  try {
    log(`jetbus tests: installing Debian's ${PACKAGES.join(", ")} and the libraries they need into ${dir} (no system change)`);
    const apt = [...privateAptOptions(work), "-o", "APT::Install-Recommends=false"];
    run("apt-get", [...apt, "update"], work);
    run("apt-get", [...apt, "install", "-y", "--download-only", ...PACKAGES], work);
    const archives = join(work, "cache", "archives");
    const debs = readdirSync(archives).filter((f) => f.endsWith(".deb"));
    if (!debs.some((f) => f.startsWith("chromium-headless-shell_")))
      throw new Error("apt-get downloaded no chromium-headless-shell package");
    const root = join(work, "root");
    for (const deb of debs) run("dpkg-deb", ["-x", join(archives, deb), root], work);
    // the browser reads its data (icudtl.dat, *.pak) beside its binary: what an installed
    // chromium-common already put in /usr/lib/chromium (so apt did not download it) is linked there
    const beside = join(root, "usr", "lib", "chromium");
    if (existsSync("/usr/lib/chromium"))
      for (const f of readdirSync("/usr/lib/chromium"))
        if (!existsSync(join(beside, f))) symlinkSync(join("/usr/lib/chromium", f), join(beside, f));
    rmSync(join(work, "cache"), { recursive: true, force: true });
    rmSync(join(work, "lists"), { recursive: true, force: true });

    // paths as they will be once `work` is renamed to `dir`
    const final = (p: string) => join(dir, p);
    // every folder of the unpacked libraries that holds a shared object: some are found through an
    // absolute RUNPATH (libpulse's /usr/lib/<triplet>/pulseaudio), which points at the system
    const libDirs = ["usr/lib", "lib"].flatMap((d) => foldersWithSharedObjects(root, d, 3)).map((d) => final(`root/${d}`));
    writeFileSync(
      join(work, "fonts.conf"),
      [
        `<?xml version="1.0"?>`,
        `<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">`,
        `<fontconfig>`,
        `  <dir>${final("root/usr/share/fonts")}</dir>`,
        `  <dir>/usr/share/fonts</dir>`,
        `  <cachedir>${final("fontconfig-cache")}</cachedir>`,
        `</fontconfig>`,
        ``,
      ].join("\n"),
    );
    writeFileSync(
      join(work, "chromium"),
      [
        `#!/bin/sh`,
        `# Debian's ${PACKAGES[0]}, unpacked here by the jetbus tests (test/helpers/chromium.ts): no system change.`,
        `export LD_LIBRARY_PATH="${libDirs.join(":")}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"`,
        `export FONTCONFIG_FILE="${final("fonts.conf")}"`,
        `exec "${final("root/usr/lib/chromium/chromium-headless-shell")}" "$@"`,
        ``,
      ].join("\n"),
    );
    chmodSync(join(work, "chromium"), 0o755);
    // another process finished first: use its copy
    if (existsSync(join(dir, "chromium"))) return join(dir, "chromium");
    rmSync(dir, { recursive: true, force: true });
    // a rename is atomic: a test reading the copy never sees half of it
    renameSync(work, dir);
    return join(dir, "chromium");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(findChromium() + "\n");
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
