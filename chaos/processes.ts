// The jetbus processes of the workload (routers and actor replicas, in the root namespace) and the
// children of the harness itself (publisher, proxy): started, killed by pid, restarted, logs kept.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const JETBUS = join(ROOT, "bin", "jetbus.js");

export type Proc = {
  /** "router-1", "chaos-plain-2", "publisher", ... */
  readonly name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Every pid this role had, in order (a restart is a new pid). */
  readonly pids: number[];
};

export type Spawn = Readonly<{ name: string; cmd: string; args: readonly string[]; env?: NodeJS.ProcessEnv; stdin?: boolean }>;

/** A process that ended without the harness ending it: a crash of the system under test. */
export type Crash = Readonly<{ name: string; pid: number; code: number | null; signal: string | null; at: number }>;

export class Processes {
  private readonly procs = new Map<string, Proc & { spec: Spawn }>();
  /** Pids the harness itself killed or stopped. */
  private readonly ended = new Set<number>();
  readonly crashes: Crash[] = [];

  constructor(private readonly dir: string) {}

  /** `jetbus ARGS...` as a process of role `name`. */
  jetbus(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Proc {
    return this.start({ name, cmd: process.execPath, args: [JETBUS, ...args], env });
  }

  start(spec: Spawn): Proc {
    const out = createWriteStream(join(this.dir, `${spec.name}.log`), { flags: "a" });
    const child = spawn(spec.cmd, spec.args, {
      cwd: ROOT,
      env: { ...process.env, ...spec.env },
      stdio: [spec.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    const exited = new Promise<number | null>((r) =>
      child.once("exit", (code, signal) => {
        if (!this.ended.has(child.pid!)) this.crashes.push({ name: spec.name, pid: child.pid!, code, signal, at: Date.now() });
        r(code);
      }),
    );
    const known = this.procs.get(spec.name);
    const p = { name: spec.name, child, exited, pids: [...(known?.pids ?? []), child.pid!], spec };
    this.procs.set(spec.name, p);
    return p;
  }

  get(name: string): Proc {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no process ${name}`);
    return p;
  }

  names(prefix = ""): string[] {
    return [...this.procs.keys()].filter((n) => n.startsWith(prefix));
  }

  /** kill -9 of the role's current pid; resolves once it is gone. Returns the pid killed. */
  async kill9(name: string): Promise<number> {
    const p = this.get(name);
    const pid = p.child.pid!;
    this.ended.add(pid);
    p.child.kill("SIGKILL");
    await p.exited;
    return pid;
  }

  /** SIGTERM to one role's process; resolves when it has exited. */
  async stop(name: string): Promise<void> {
    const p = this.get(name);
    this.ended.add(p.child.pid!);
    p.child.kill("SIGTERM");
    await p.exited;
  }

  restart(name: string): Proc {
    return this.start(this.procs.get(name)!.spec);
  }

  /** SIGTERM to every live process, then SIGKILL for any still there after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    const live = [...this.procs.values()].filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    for (const p of live) (this.ended.add(p.child.pid!), p.child.kill("SIGTERM"));
    const timer = setTimeout(() => live.forEach((p) => p.child.kill("SIGKILL")), graceMs);
    await Promise.all(live.map((p) => p.exited));
    clearTimeout(timer);
  }

  /** Synchronous last resort (process exit, signals): SIGKILL to every child still running. */
  killAllNow(): void {
    for (const p of this.procs.values())
      if (p.child.exitCode === null && p.child.signalCode === null) (this.ended.add(p.child.pid!), p.child.kill("SIGKILL"));
  }
}
