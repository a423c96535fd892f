import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { NatsServerMissingError } from "../errors.ts";

/**
 * Installs Debian's current nats-server without touching the system: `apt-get download` from the
 * development suite (`sid`) through a private sources list, package lists and cache in a temp dir,
 * then `dpkg-deb -x` and a copy of the one binary into `destDir`. Debian stable ships 2.9.10 (2022),
 * older than jetbus's floor; sid has 2.15.x. About 4 s on a good mirror (11 MB of lists, 5 MB .deb).
 */
export function installDebianNatsServer(destDir: string, log: (line: string) => void, suite = "sid"): string {
  const mirror = debianMirror(readSourcesTexts());
  if (!mirror) throw new NatsServerMissingError(`cannot install nats-server: no Debian mirror found in /etc/apt/sources.list{,.d}`);
  const work = mkdtempSync(join(destDir, ".install-"));
  try {
    log(`jetbus: installing Debian's current nats-server package from ${mirror} (suite ${suite}) into ${destDir} (no system change)`);
    const sources = join(work, "jetbus.sources");
    const keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    writeFileSync(
      sources,
      [
        "Types: deb",
        `URIs: ${mirror}`,
        `Suites: ${suite}`,
        "Components: main",
        ...(existsSync(keyring) ? [`Signed-By: ${keyring}`] : []),
        "",
      ].join("\n"),
    );
    const apt = ["-o", `Dir::Etc::sourcelist=${sources}`, "-o", "Dir::Etc::sourceparts=-", ...privateAptOptions(work)];
    run("apt-get", [...apt, "update"], work);
    run("apt-get", [...apt, "download", "nats-server"], work);
    const deb = readdirSync(work).find((f) => f.startsWith("nats-server_") && f.endsWith(".deb"));
    if (!deb) throw new NatsServerMissingError("apt-get download nats-server produced no .deb file");
    run("dpkg-deb", ["-x", deb, "x"], work);
    const bin = ["usr/sbin/nats-server", "usr/bin/nats-server"].map((p) => join(work, "x", p)).find(existsSync);
    if (!bin) throw new NatsServerMissingError(`${deb} holds no nats-server binary`);
    const staged = join(work, "nats-server");
    copyFileSync(bin, staged);
    chmodSync(staged, 0o755);
    // a rename is atomic: two processes installing at once both end with a whole binary in place
    const target = join(destDir, "nats-server");
    renameSync(staged, target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * apt-get options that keep the package lists and the download cache under `work` (made here), so
 * an update and a download change nothing of the system's apt state and need no lock on it.
 */
export function privateAptOptions(work: string): string[] {
  for (const d of ["lists/partial", "cache/archives/partial"]) mkdirSync(join(work, d), { recursive: true });
  return [
    "-q",
    "-o",
    `Dir::State::Lists=${join(work, "lists")}`,
    "-o",
    `Dir::Cache=${join(work, "cache")}`,
    // the system's mirror may be a dated snapshot whose Release file is past its Valid-Until
    "-o",
    "Acquire::Check-Valid-Until=false",
    "-o",
    "Debug::NoLocking=1",
  ];
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.error) throw new NatsServerMissingError(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new NatsServerMissingError(
      `${cmd} ${args.at(-1)} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}`,
    );
}

function readSourcesTexts(): string[] {
  const texts: string[] = [];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir))
    for (const f of readdirSync(dir)
      .filter((f) => f.endsWith(".sources") || f.endsWith(".list"))
      .sort())
      texts.push(readFileSync(join(dir, f), "utf8"));
  if (existsSync("/etc/apt/sources.list")) texts.push(readFileSync("/etc/apt/sources.list", "utf8"));
  return texts;
}

/**
 * The URI of the system's main Debian archive (not the security one), from deb822 `.sources`
 * stanzas or one-line `deb URI SUITE ...` entries. Undefined when none names a Debian archive.
 */
export function debianMirror(texts: readonly string[]): string | undefined {
  const isMain = (uri: string, suites: string) => /\/debian\/?$/.test(uri) && !/security/.test(suites);
  for (const text of texts) {
    for (const stanza of text.split(/\n\s*\n/)) {
      if (!/^Types:.*\bdeb\b/m.test(stanza)) continue;
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? "";
      if (uri && isMain(uri, suites)) return uri.replace(/\/$/, "");
    }
    for (const line of text.split("\n")) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m && isMain(m[1]!, m[2]!)) return m[1]!.replace(/\/$/, "");
    }
  }
  return undefined;
}
