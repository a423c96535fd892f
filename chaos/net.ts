// The chaos run's network: a bridge in the root namespace and one network namespace per NATS node
// (plus one for the delaying proxy), joined by veth pairs on 198.18.213.0/24. No namespace gets a
// default route, nothing is forwarded or NATed: traffic stays on these veths and loopback.
// Why that subnet: 198.18.0.0/15 is reserved for benchmarking (RFC 2544) and is routed nowhere,
// while a private range (the harness's first choice was one) may be a real network on a user's
// machine: its hosts would be shadowed by the bridge for the length of the run.
// Faults are nftables rules inside the namespaces (one table per namespace, gone with it).
import { execFileSync } from "node:child_process";

/** Every namespace, link and table the harness creates starts with this: a crashed run's leftovers are found by it. */
export const PREFIX = "jbchaos";
/** The first three octets of the run's /24, inside the benchmarking range 198.18.0.0/15 (RFC 2544). */
export const SUBNET = "198.18.213";
export const SUBNET_CIDR = `${SUBNET}.0/24`;
export const BRIDGE = `${PREFIX}-br`;
/** The root namespace's address on the bridge: where the jetbus processes (clients) connect from. */
export const HOST_ADDR = `${SUBNET}.1`;
const TABLE = PREFIX;

export type Ns = Readonly<{ name: string; addr: string }>;

/**
 * `cmd args` run inside a namespace: `nsenter --net=/run/netns/<ns>` enters only its network
 * namespace and execs the command (same pid). Not `ip netns exec` / `ip -n`, which also remount
 * `/` and `/sys` and fail where `/` is no mount point ("mount --make-rslave /" failed: Invalid
 * argument), e.g. in the chroot that ../shared/tools/fresh-machine runs CI's steps in.
 */
export function inNamespace(ns: string, cmd: string, args: readonly string[]): [string, string[]] {
  return ["nsenter", [`--net=/run/netns/${ns}`, cmd, ...args]];
}

export function sh(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

/** Why this machine cannot run the harness (not root, no `ip` or `nft`), or undefined. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return "the chaos harness must run as root (it creates network namespaces, veth pairs and nftables rules)";
  for (const [bin, pkg] of [
    ["ip", "iproute2"],
    ["nft", "nftables"],
  ] as const) {
    try {
      sh(bin, ["-V"]);
    } catch {
      return `\`${bin}\` is missing: apt-get install -y ${pkg}`;
    }
  }
  return undefined;
}

/** An IPv4 address as a 32-bit number; undefined when `text` is not one. */
function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** Whether two CIDR blocks (`a.b.c.d/len`) share an address; false when either does not parse. */
export function cidrsOverlap(a: string, b: string): boolean {
  const block = (cidr: string) => {
    const [addr = "", len = "32"] = cidr.split("/");
    const ip = ipv4(addr);
    const bits = Number(len);
    if (ip === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
    const size = 2 ** (32 - bits);
    const start = Math.floor(ip / size) * size;
    return { start, end: start + size - 1 };
  };
  const x = block(a);
  const y = block(b);
  return x !== undefined && y !== undefined && x.start <= y.end && y.start <= x.end;
}

/**
 * The interface line of `ip -br -4 addr` whose network overlaps the run's subnet (an interface
 * of ours left by a crashed run excepted), or undefined when there is none.
 */
export function subnetTaken(ipBrief = sh("ip", ["-br", "-4", "addr"])): string | undefined {
  const line = ipBrief
    .split("\n")
    .filter((l) => !l.startsWith(`${PREFIX}-`))
    .find((l) => l.split(/\s+/).some((w) => w.includes("/") && cidrsOverlap(w, SUBNET_CIDR)));
  return line?.trim();
}

/** Removes what a previous, crashed run left: processes inside our namespaces (by pid), the namespaces, the bridge. */
export function cleanupLeftovers(log: (s: string) => void): void {
  const names = sh("ip", ["netns", "list"])
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`));
  for (const ns of names) {
    const pids = killInside(ns);
    log(`removing leftover namespace ${ns}${pids.length ? ` (killed pids ${pids.join(", ")})` : ""}`);
    trySh("ip", ["netns", "del", ns]);
  }
  const links = sh("ip", ["-br", "link"])
    .split("\n")
    .map((l) => l.split(/[\s@]/)[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`));
  for (const l of links) {
    log(`removing leftover link ${l}`);
    trySh("ip", ["link", "del", l]);
  }
}

/** SIGKILL to every process inside a namespace (by pid, as `ip netns pids` lists them); returns the pids. */
function killInside(ns: string): number[] {
  let pids: number[] = [];
  try {
    pids = sh("ip", ["netns", "pids", ns]).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  return pids;
}

function trySh(cmd: string, args: readonly string[]): void {
  try {
    sh(cmd, args);
  } catch {
    /* best effort: teardown goes on */
  }
}

/** The bridge with the host's address. */
export function createBridge(): void {
  sh("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  sh("ip", ["addr", "add", `${HOST_ADDR}/24`, "dev", BRIDGE]);
  sh("ip", ["link", "set", BRIDGE, "up"]);
}

/** A namespace `${PREFIX}-<short>` with `eth0` = `addr`/24 on the bridge, loopback up, no default route, and an empty nft table. */
export function createNamespace(short: string, addr: string): Ns {
  const name = `${PREFIX}-${short}`;
  sh("ip", ["netns", "add", name]);
  sh("ip", ["link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", name]);
  sh("ip", ["link", "set", name, "master", BRIDGE, "up"]);
  sh(...inNamespace(name, "ip", ["addr", "add", `${addr}/24`, "dev", "eth0"]));
  sh(...inNamespace(name, "ip", ["link", "set", "eth0", "up"]));
  sh(...inNamespace(name, "ip", ["link", "set", "lo", "up"]));
  setRules({ name, addr }, []);
  return { name, addr };
}

/**
 * Replaces every rule of a namespace's table at once (one `nft -f` transaction). Rules are nft
 * statements for the input and output filter chains, e.g. `ip saddr 198.18.213.12 drop`.
 */
export function setRules(ns: Ns, rules: readonly { chain: "input" | "output"; rule: string }[]): void {
  const script = [
    `table inet ${TABLE}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    `  chain input { type filter hook input priority 0; policy accept; }`,
    `  chain output { type filter hook output priority 0; policy accept; }`,
    `}`,
    ...rules.map((r) => `add rule inet ${TABLE} ${r.chain} ${r.rule}`),
  ].join("\n");
  sh(...inNamespace(ns.name, "nft", ["-f", "-"]), script + "\n");
}

/** Tears down the namespaces (after their processes are gone) and the bridge; never throws. */
export function teardown(namespaces: readonly Ns[]): void {
  for (const ns of namespaces) {
    killInside(ns.name);
    trySh("ip", ["netns", "del", ns.name]);
  }
  trySh("ip", ["link", "del", BRIDGE]);
}
