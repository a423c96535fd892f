// The run's verdict: `jetbus check` over the publisher's acks, the actors' effect files, the store and
// the counter's state, the aggregate's accounts against the commanders' records
// (chaos/account-check.ts), plus the jetbus processes that died without a kill from the harness;
// written to verdict.json and printed (one JSON line with --json).
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { accountCheck } from "./account-check.ts";
import type { AccountVerdict } from "./account-verdict.ts";
import { sleep } from "./faults.ts";
import { ROOT, type Processes } from "./processes.ts";
import { Actors } from "./workload-config.ts";

export type VerdictSpec = Readonly<{
  dir: string;
  configFile: string;
  servers: readonly string[];
  seed: number;
  /** Accounts of the aggregate workload. */
  accounts: number;
  processes: Processes;
  json: boolean;
  log(line: string): void;
}>;

type Checked = { code: number | null; out: string; err: string };
type Target = { name: string; expected: number; lost: number; extra: number; outOfOrder: number };

function checkArgs({ dir, configFile, servers, seed }: VerdictSpec): string[] {
  const effects = readdirSync(dir)
    .filter((f) => f.startsWith("effects-"))
    .map((f) => join(dir, f));
  return [
    join(ROOT, "bin", "jetbus.js"),
    "check",
    "--config",
    configFile,
    "--servers",
    servers.join(","),
    "--read-store",
    "--acked",
    join(dir, "acked.jsonl"),
    "--sent",
    join(dir, "sent.jsonl"),
    "--faults",
    join(dir, "faults.jsonl"),
    "--seed",
    String(seed),
    "--unordered",
    Actors.Plain,
    "--allow-duplicates",
    `${Actors.Plain},${Actors.Ordered}`,
    "--counter-state",
    Actors.Counter,
    "--json",
    "--seen",
    ...effects,
  ];
}

function runCheck(args: readonly string[]): Promise<Checked> {
  return new Promise((resolve) => {
    const ch = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "",
      err = "";
    ch.stdout.on("data", (d) => (out += d));
    ch.stderr.on("data", (d) => (err += d));
    ch.on("exit", (code) => resolve({ code, out, err }));
  });
}

/** The aggregate's verdict; a read that fails (a request timing out on the loaded machine) is tried again, as the check is. */
async function aggregateVerdict({ dir, servers, accounts, log }: VerdictSpec): Promise<AccountVerdict> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await accountCheck(dir, servers, accounts);
    } catch (err) {
      if (attempt === 6) throw err;
      log(`reading the accounts failed (${(err as Error).message}); again`);
      await sleep(10_000);
    }
  }
}

/** Runs the checks, prints the verdict; true when it failed (lost, reordered, check not 0, an aggregate check, a crash). */
export async function verdict(spec: VerdictSpec): Promise<boolean> {
  const { dir, processes, log } = spec;
  const args = checkArgs(spec);
  // reading the store is a one-shot command: a request timing out on the loaded machine is tried again
  let checked = await runCheck(args);
  let v: Record<string, unknown> | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      v = JSON.parse(checked.out.trim().split("\n").pop() ?? "") as Record<string, unknown>;
      break;
    } catch {
      if (attempt === 6) throw new Error(`jetbus check printed no verdict (exit ${checked.code}): ${checked.err.slice(-2000)}`);
      log(`jetbus check gave no verdict (${checked.err.trim().split("\n")[0]}); again`);
      await sleep(10_000);
      checked = await runCheck(args);
    }
  }
  const aggregate = await aggregateVerdict(spec);
  v.aggregate = aggregate;
  const { targets, ...rest } = v;
  // a jetbus process that died without a kill from the harness is a finding of its own
  const crashed = processes.crashes.filter((c) => c.name !== "proxy");
  const summary: Record<string, unknown> = {
    ...rest,
    crashed: crashed.map((c) => `${c.name} pid ${c.pid} (${c.signal ?? `exit ${c.code}`})`),
  };
  for (const c of crashed)
    log(
      `CRASH: ${c.name} (pid ${c.pid}) ended by itself (${c.signal ?? `exit ${c.code}`}) at ${new Date(c.at).toISOString()}; its log: ${join(dir, c.name + ".log")}`,
    );
  writeFileSync(join(dir, "verdict.json"), JSON.stringify(v, null, 2));
  if (spec.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else {
    process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
    const state = v.state as { keys: number; events: number; mismatches: unknown[] } | undefined;
    if (state)
      process.stdout.write(
        `  ${Actors.Counter} state: ${state.keys} keys, ${state.events} events, mismatches ${JSON.stringify(state.mismatches)}\n`,
      );
    const a = aggregate;
    process.stdout.write(
      `  aggregate: ${a.entities} accounts, ${a.events} events; commands ${JSON.stringify(a.commands)}; failed checks ${JSON.stringify(a.failed)}\n`,
    );
    for (const t of targets as Target[])
      process.stdout.write(
        `  ${t.name}: expected ${t.expected}, lost ${t.lost}, duplicate handlings ${t.extra}, out of order ${t.outOfOrder}\n`,
      );
  }
  const lostOrReordered = Number(summary.lost) > 0 || Number(summary.reordered) > 0;
  return lostOrReordered || checked.code !== 0 || !aggregate.valid || crashed.length > 0;
}
