// The faults of issue 16 point 3, each injected, held and healed, and written to faults.jsonl as
// `{"kind","target","start","end","pid"?}` (ms) for `jetbus check`. The plan (kinds, order,
// targets, durations) comes from the seeded Rng: the same seed replays the same schedule.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { Cluster, NODE_ADDR, NODE_NAMES, PROXIED, PROXY_ADDR, type NodeName } from "./cluster.ts";
import { setRules, type Ns } from "./net.ts";
import type { Processes } from "./processes.ts";
import type { Rng } from "./rng.ts";
import { Actors } from "./workload-config.ts";

export const FaultKind = {
  KillNode: "kill-node",
  KillLeader: "kill-leader",
  PauseNode: "pause-node",
  PartitionNode: "partition-node",
  PartitionLeader: "partition-leader",
  PartitionOneWay: "partition-oneway",
  KillRouter: "kill-router",
  KillActor: "kill-actor",
  KillCommander: "kill-commander",
  Loss: "loss",
  Delay: "delay",
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];
export const ALL_KINDS = Object.values(FaultKind);

type Actor = (typeof Actors)[keyof typeof Actors];

/**
 * A planned fault: its kind, how long it is held (ms), a number that picks its target and strength,
 * and for kill-actor the actor whose process is killed.
 */
export type PlannedFault = Readonly<{ kind: FaultKind; holdMs: number; pick: number; actor?: Actor }>;

/**
 * kill-actor's actors in turn, the counter first: the short profile has one kill-actor, and picked
 * among all 6 actor processes it hit a counter process for 1 seed in 3 (101 of seeds 0-299), while
 * a killed counter process is what tests the state's exactly-once commit (issue 18).
 */
export const KILL_ACTOR_TURNS: readonly Actor[] = [Actors.Counter, Actors.Ordered, Actors.Plain];

/**
 * nats-server's Raft elects after 4-9 s without a leader heartbeat (minElectionTimeout,
 * maxElectionTimeout in server/raft.go): a pause or partition of 10-14 s outlasts it.
 */
const HOLD_MS: Record<FaultKind, [number, number]> = {
  "kill-node": [5_000, 10_000],
  "kill-leader": [5_000, 10_000],
  "pause-node": [10_000, 14_000],
  "partition-node": [10_000, 14_000],
  "partition-leader": [10_000, 14_000],
  "partition-oneway": [10_000, 14_000],
  "kill-router": [1_000, 4_000],
  "kill-actor": [1_000, 4_000],
  "kill-commander": [1_000, 4_000],
  loss: [10_000, 15_000],
  delay: [10_000, 15_000],
};

/** Every kind once in a seeded order, then `extra` more of random kinds; kill-actors take KILL_ACTOR_TURNS in turn. */
export function planFaults(rng: Rng, extra: number): PlannedFault[] {
  const kinds = [...rng.shuffle(ALL_KINDS), ...Array.from({ length: extra }, () => rng.pick(ALL_KINDS))];
  let actorKills = 0;
  return kinds.map((kind) => ({
    kind,
    holdMs: rng.int(...HOLD_MS[kind]),
    pick: rng.int(0, 1_000_000),
    ...(kind === FaultKind.KillActor ? { actor: KILL_ACTOR_TURNS[actorKills++ % KILL_ACTOR_TURNS.length] } : {}),
  }));
}

/**
 * The process a kill-router, kill-actor or kill-commander ends, among the running roles `names`:
 * `pick` chooses one of the routers, of the actor's processes or of the commanders.
 */
export function killTarget(f: PlannedFault, names: readonly string[]): string {
  const prefix = f.kind === FaultKind.KillRouter ? "router-" : f.kind === FaultKind.KillCommander ? "commander-" : `${f.actor}-`;
  const candidates = names.filter((n) => n.startsWith(prefix));
  if (candidates.length === 0) throw new Error(`no process for ${f.kind} (${prefix}*) among ${names.join(", ")}`);
  return candidates[f.pick % candidates.length]!;
}

export type FaultContext = Readonly<{
  dir: string;
  cluster: Cluster;
  processes: Processes;
  namespaces: Record<NodeName, Ns>;
  /** The harness's connection (root namespace, every node): asks who leads EVENTS. */
  nc: NatsConnection;
  stream: string;
  setProxyDelay(ms: number): void;
  log(line: string): void;
}>;

type Rule = { chain: "input" | "output"; rule: string };

/** The address `from` reaches `to` at: the proxy for the proxied pair, else `to`'s own. */
function peerAddr(from: NodeName, to: NodeName): string {
  const proxied = PROXIED.includes(from) && PROXIED.includes(to);
  return proxied ? PROXY_ADDR : NODE_ADDR[to];
}

/** The rules that stay for the whole run: the proxied pair refuses each other's direct address, so their route takes the proxy. */
export function baseRules(name: NodeName): Rule[] {
  const [a, b] = PROXIED;
  const other = name === a ? b : name === b ? a : undefined;
  if (!other) return [];
  const addr = NODE_ADDR[other];
  return [
    { chain: "input", rule: `ip saddr ${addr} reject with tcp reset` },
    { chain: "output", rule: `ip daddr ${addr} reject with tcp reset` },
  ];
}

const drop = (addr: string, dirs: readonly ("in" | "out")[], extra = ""): Rule[] =>
  dirs.map((d) =>
    d === "in" ? { chain: "input", rule: `ip saddr ${addr} ${extra}drop` } : { chain: "output", rule: `ip daddr ${addr} ${extra}drop` },
  );

export class FaultInjector {
  private readonly extra = new Map<NodeName, Rule[]>();

  constructor(private readonly ctx: FaultContext) {
    for (const n of NODE_NAMES) this.apply(n);
  }

  private apply(n: NodeName): void {
    setRules(this.ctx.namespaces[n], [...baseRules(n), ...(this.extra.get(n) ?? [])]);
  }

  private addRules(n: NodeName, rules: Rule[], apply = true): void {
    this.extra.set(n, [...(this.extra.get(n) ?? []), ...rules]);
    if (apply) this.apply(n);
  }

  /** Removes every fault rule (the base rules stay). */
  heal(): void {
    this.extra.clear();
    for (const n of NODE_NAMES) this.apply(n);
  }

  private async leader(): Promise<NodeName> {
    for (let i = 0; i < 100; i++) {
      const l = await Cluster.leaderOf(this.ctx.nc, this.ctx.stream);
      if (l) return l;
      await sleep(200);
    }
    throw new Error(`no leader for ${this.ctx.stream} after 20 s`);
  }

  /** Isolates `node` from the other two nodes, both ways. */
  private isolate(node: NodeName): void {
    for (const other of NODE_NAMES.filter((n) => n !== node)) {
      this.addRules(node, drop(peerAddr(node, other), ["in", "out"]), false);
      this.addRules(other, drop(peerAddr(other, node), ["in", "out"]), false);
    }
    // one nft transaction per namespace (each `nft` run inside a namespace took ~1 s on the loaded machine)
    for (const n of NODE_NAMES) this.apply(n);
  }

  /** Injects one fault, holds it, heals it; returns what to record. */
  async run(f: PlannedFault): Promise<{ kind: FaultKind; target: string; start: number; end: number; pid?: number }> {
    const { cluster, processes } = this.ctx;
    const nodeOf = (pick: number) => NODE_NAMES[pick % NODE_NAMES.length]!;
    let target = "";
    let pid: number | undefined;
    const start = Date.now();
    switch (f.kind) {
      case "kill-node":
      case "kill-leader": {
        const node = f.kind === "kill-leader" ? await this.leader() : nodeOf(f.pick);
        target = node;
        pid = cluster.pid(node);
        await cluster.kill(node);
        await sleep(f.holdMs);
        cluster.start(node);
        break;
      }
      case "pause-node": {
        const node = nodeOf(f.pick);
        target = node;
        pid = cluster.pid(node);
        cluster.pause(node);
        await sleep(f.holdMs);
        cluster.resume(node);
        break;
      }
      case "partition-node":
      case "partition-leader": {
        const node = f.kind === "partition-leader" ? await this.leader() : nodeOf(f.pick);
        target = node;
        this.isolate(node);
        await sleep(f.holdMs);
        this.heal();
        break;
      }
      case "partition-oneway": {
        // `to` stops hearing `from`; `from` still hears `to`
        const to = nodeOf(f.pick);
        const from = NODE_NAMES.filter((n) => n !== to)[Math.floor(f.pick / 3) % 2]!;
        target = `${from}->${to}`;
        this.addRules(to, drop(peerAddr(to, from), ["in"]));
        await sleep(f.holdMs);
        this.heal();
        break;
      }
      case "kill-router":
      case "kill-actor":
      case "kill-commander": {
        target = killTarget(f, processes.names());
        pid = await processes.kill9(target);
        await sleep(f.holdMs);
        processes.restart(target);
        break;
      }
      case "loss": {
        // a link between two nodes, N% of its packets dropped each way
        const a = nodeOf(f.pick);
        const b = NODE_NAMES.filter((n) => n !== a)[Math.floor(f.pick / 3) % 2]!;
        const percent = 10 + (Math.floor(f.pick / 7) % 21); // 10-30 %
        target = `${a}-${b} ${percent}%`;
        this.addRules(a, drop(peerAddr(a, b), ["in", "out"], `numgen random mod 100 < ${percent} `));
        await sleep(f.holdMs);
        this.heal();
        break;
      }
      case "delay": {
        const ms = 100 + (f.pick % 401); // 100-500 ms each way
        target = `${PROXIED.join("-")} ${ms}ms`;
        this.ctx.setProxyDelay(ms);
        await sleep(f.holdMs);
        this.ctx.setProxyDelay(0);
        break;
      }
    }
    const record = { kind: f.kind, target, start, end: Date.now(), ...(pid === undefined ? {} : { pid }) };
    appendFileSync(join(this.ctx.dir, "faults.jsonl"), JSON.stringify(record) + "\n");
    return record;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
