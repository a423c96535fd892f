import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { NatsServer } from "../../runtime/nats/server.ts";
import { ALL_HANDLED, readTally, type Tally } from "../event-count.ts";
import type { Comparison, Scenario } from "../harness.ts";
import { NOTIFY_SIDES, SINKS, type NotifyProcs, type NotifySide } from "../notify-sides.ts";
import { CpuMeter, type Helper } from "../pipeline-support.ts";
import { opsPerSecond } from "../harness.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { notificationPlanOf, routedEvent } from "../../runtime/notify/routes.ts";
import { tickData } from "../notify-sides.ts";

/**
 * What applying the rules in the actor costs per notification (where a router hop would cost a
 * process receiving each notification and publishing a copy per actor): the bench's type-only
 * rule, and a rule with a data filter and a transform. In-process, no server.
 */
function ruleCost(): { typeOnly: number; filtered: number } {
  const config = configFrom(
    {
      actors: [{ name: "a" }, { name: "b" }],
      routes: {
        rules: [
          { name: "ticks", match: { type: "BenchTick" }, to: ["a"] },
          {
            name: "big",
            match: { type: "BenchTick", data: { all: [{ gte: { i: 10 } }, { prefix: { user_id: "user" } }] } },
            to: ["b"],
            transform: { pick: ["i", "user_id"], set: { big: true } },
          },
        ],
      },
    },
    "(bench)",
  );
  const event = createEvent({ type: "BenchTick", data: tickData(12345) });
  const a = notificationPlanOf("a", config);
  const b = notificationPlanOf("b", config);
  const us = (fn: () => void) => 1e6 / opsPerSecond(fn, 300);
  return { typeOnly: us(() => routedEvent(a(event)!, event)), filtered: us(() => routedEvent(b(event)!, event)) };
}

type Cpu = Readonly<{ publisher?: number; consumer?: number; server?: number }>;
type Pass = Readonly<{ rate: number; seconds: number; cpu: Cpu; idle: Cpu; load: string }>;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** Resolves when every consumer printed ALL_HANDLED; fails when one exits, or nothing moves for `stallMs` (a lost notification). */
function untilAllHandled(procs: NotifyProcs, countFile: (s: string) => string, stallMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let last = "";
    let lastChange = Date.now();
    const done = () => procs.consumers.every((c) => c.output().includes(ALL_HANDLED));
    const finish = (err?: Error) => {
      clearInterval(timer);
      for (const c of procs.consumers) c.child.stdout!.off("data", check);
      if (err) reject(err);
      else resolve();
    };
    const check = () => done() && finish();
    const timer = setInterval(() => {
      const dead = procs.consumers.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
      if (dead) return finish(new Error(`a consumer exited:\n${dead.output().slice(-2000)}`));
      const tallies = SINKS.map((s) => {
        try {
          return readTally(countFile(s));
        } catch {
          return undefined;
        }
      });
      const now = JSON.stringify(tallies.map((t) => t?.handled));
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > stallMs)
        finish(new Error(`no progress for ${stallMs / 1000} s: ${tallies.map((t, i) => `${SINKS[i]} ${describe(t)}`).join("; ")}`));
    }, 500);
    for (const c of procs.consumers) c.child.stdout!.on("data", check);
    check();
  });
}

function describe(t: Tally | undefined): string {
  return t ? `${t.distinct}/${t.expected} (${t.duplicates} duplicates)` : "no tally";
}

async function stopProcs(procs: NotifyProcs | undefined): Promise<void> {
  if (!procs) return;
  await procs.publisher.stop();
  for (const c of procs.consumers) await c.stop();
}

/** One side on a fresh server: its consumers and publisher started, then N published on SIGUSR2; timed until all three handled all. */
async function pass(side: NotifySide, n: number): Promise<Pass> {
  const server = await NatsServer.start({ serverName: `notify-${side.key}` });
  const dir = mkdtempSync(join(tmpdir(), `jetbus-notify-${side.key}-`));
  const countFile = (s: string) => join(dir, `${s}.json`);
  let procs: NotifyProcs | undefined;
  try {
    const before = load();
    procs = await side.start({ url: server.url, dir, n, countFile });
    // start-up work (module loading, subscriptions, discovery) is over before the clock starts
    await new Promise((r) => setTimeout(r, 1000));
    const pids: Record<string, number | undefined> = { publisher: procs.publisher.child.pid, "nats-server": server.pid };
    procs.consumers.forEach((c: Helper, i) => (pids[SINKS[i]!] = c.child.pid));
    // what the processes spend doing nothing for 2 s (timers, heartbeats, idle pulls): it is in every
    // per-event figure below too, the more so the slower a pass runs
    const idleMeter = new CpuMeter(pids);
    await new Promise((r) => setTimeout(r, 2000));
    const idleUs = idleMeter.perEvent(2); // us per second
    const meter = new CpuMeter(pids);
    const t0 = performance.now();
    procs.publisher.child.kill("SIGUSR2");
    await untilAllHandled(procs, countFile);
    const seconds = (performance.now() - t0) / 1000;
    const us = meter.perEvent(n);
    // a late duplicate would show in the tallies
    await new Promise((r) => setTimeout(r, 300));
    for (const s of SINKS) {
      const t = readTally(countFile(s));
      if (t.distinct !== n || t.duplicates !== 0 || t.outOfRange !== 0) throw new Error(`${side.key} ${s}: ${describe(t)}`);
    }
    const avg = (m: Record<string, number | undefined>) => {
      const xs = SINKS.map((s) => m[s]).filter((v): v is number => v !== undefined);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
    };
    return {
      rate: n / seconds,
      seconds,
      cpu: { publisher: us.publisher, consumer: avg(us), server: us["nats-server"] },
      idle: { publisher: idleUs.publisher, consumer: avg(idleUs), server: idleUs["nats-server"] },
      load: `${before} -> ${load()}`,
    };
  } finally {
    await stopProcs(procs);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(1));

/**
 * Notification fan-out to three handlers, each in its own process, and a publisher process, on
 * a fresh nats-server per pass: the raw client's core publish/subscribe, moleculer 0.14 balanced
 * events (NATS transporter), and jetbus notifications. N notifications of ~200 bytes of JSON are
 * published as fast as the side's publisher goes (a flush or await every 1000); the clock runs
 * from the publisher's start until all three handlers counted all N, each exactly once (a loss
 * or a duplicate fails the pass). CPU per event per process over the same span. Sides alternate
 * for R rounds; rates and CPU are the median of the rounds.
 *
 * `raw` publishes plain JSON bodies; `raw-ce` the same bodies with the CloudEvents headers jetbus
 * sends, set by hand and read back: the envelope's own cost, apart from jetbus's.
 *
 * Usage: notify [N=50000] [ROUNDS=3] [--only=raw,raw-ce,moleculer,jetbus]
 */
const scenario: Scenario = {
  name: "notify",
  description: "notification fan-out to 3 handler processes: raw core pub/sub, moleculer balanced events, jetbus notifications",
  async run(args) {
    const flag = args.find((a) => a.startsWith("--only="));
    const only = flag?.slice("--only=".length).split(",");
    const [nArg, roundsArg] = args.filter((a) => a !== flag);
    const n = Number(nArg ?? 50_000);
    const rounds = Number(roundsArg ?? 3);
    const sides = only ? NOTIFY_SIDES.filter((s) => only.includes(s.key)) : NOTIFY_SIDES;
    process.stderr.write(`load average at start: ${load()}\n`);
    const results = new Map<string, Pass[]>(sides.map((s) => [s.key, []]));
    for (let r = 0; r < rounds; r++)
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        const p = await pass(side, n);
        results.get(side.key)!.push(p);
        process.stderr.write(
          `round ${r + 1} ${side.key.padEnd(9)} ${Math.round(p.rate).toLocaleString("en-US").padStart(8)} ev/s  cpu us/ev: publisher ${fmt(p.cpu.publisher)}, each handler ${fmt(p.cpu.consumer)}, nats-server ${fmt(p.cpu.server)}` +
            `  idle cpu ms/s: publisher ${fmt(p.idle.publisher! / 1000)}, each handler ${fmt(p.idle.consumer! / 1000)}  load ${p.load}\n`,
        );
      }
    const med = (key: string, f: (p: Pass) => number | undefined) => {
      const xs = (results.get(key) ?? []).map(f).filter((v): v is number => v !== undefined);
      return xs.length ? median(xs) : undefined;
    };
    const rows: Comparison[] = [];
    for (const ref of ["raw", "raw-ce", "moleculer"]) {
      if (!results.has("jetbus") || !results.has(ref)) continue;
      const reference = ref === "raw" ? undefined : ref;
      const target = ref === "raw" ? ">= 0.8x" : undefined;
      rows.push({
        metric: `fan-out x3 of ${n}, notifications/s`,
        unit: "ev/s",
        jetbus: med("jetbus", (p) => p.rate)!,
        raw: med(ref, (p) => p.rate)!,
        higherIsBetter: true,
        target,
        reference,
      });
      for (const [what, f] of [
        ["publisher", (p: Pass) => p.cpu.publisher],
        ["each handler", (p: Pass) => p.cpu.consumer],
        ["nats-server", (p: Pass) => p.cpu.server],
      ] as const) {
        const j = med("jetbus", f);
        const o = med(ref, f);
        if (j !== undefined && o !== undefined)
          rows.push({ metric: `cpu per notification, ${what}`, unit: "us", jetbus: j, raw: o, higherIsBetter: false, reference });
      }
    }
    const rules = ruleCost();
    process.stderr.write(
      `rules in the actor, per notification: ${rules.typeOnly.toFixed(2)} us (type only), ${rules.filtered.toFixed(2)} us (data filter + transform)\n`,
    );
    process.stderr.write(`load average at end: ${load()}\n`);
    return rows;
  },
};
export default scenario;
