import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { alive } from "./local-node.ts";

/** A router or actor process `cluster up` started, with the port its /readyz answers on. */
export type StartingProcess = Readonly<{
  name: string;
  pid: number;
  log: string;
  /** Loopback (or observability.http_host) port of /metrics, /healthz and /readyz. */
  http: number;
  /** Settles with how the process ended, if it ends while this command runs. */
  exited: Promise<Readonly<{ code: number | null; signal: NodeJS.Signals | null }>>;
}>;

export type StartFailure = Readonly<{ name: string; pid: number; log: string; reason: string; logTail: string }>;

/**
 * `n` distinct free TCP ports on `host`, from the kernel (listen on port 0), all held until every
 * one is known so none is handed out twice. A process given one binds it a moment later: another
 * program taking it in between fails that process's start-up, which `waitUntilReady` reports.
 */
export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((res, rej) => s.once("error", rej).listen(0, host, () => res()));
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
  }
}

async function answersReady(host: string, port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    await r.body?.cancel();
    return r.status === 200;
  } catch {
    return false;
  }
}

export function logTail(file: string, lines = 12): string {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Waits until every process answers 200 on /readyz (its workers or routers run) or ends. A process
 * that exits, or is still not ready after `timeoutMs`, is a failure carrying its log's last lines;
 * the processes that did come up are left running (the caller decides).
 */
export async function waitUntilReady(processes: readonly StartingProcess[], host: string, timeoutMs: number): Promise<StartFailure[]> {
  // a process listening on every interface answers on loopback too
  const probeHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const deadline = Date.now() + timeoutMs;
  const ended = new Map<string, string>();
  const describe = ({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }) =>
    signal ? `was killed by ${signal}` : `exited with code ${code}`;
  for (const p of processes) void p.exited.then((e) => ended.set(p.name, describe(e)));
  // gone but its exit not reported yet: the exit code comes a moment after the pid disappears
  const endOf = async (p: StartingProcess) =>
    ended.get(p.name) ??
    (alive(p.pid)
      ? undefined
      : await Promise.race([p.exited.then(describe), new Promise<string>((r) => setTimeout(() => r("exited"), 1000))]));
  const waiting = new Set(processes);
  const failures: StartFailure[] = [];
  const fail = (p: StartingProcess, reason: string) => {
    waiting.delete(p);
    failures.push({ name: p.name, pid: p.pid, log: p.log, reason, logTail: logTail(p.log) });
  };
  while (waiting.size > 0) {
    for (const p of [...waiting]) {
      const end = await endOf(p);
      if (end !== undefined) fail(p, `${end} during start-up`);
      else if (await answersReady(probeHost, p.http)) waiting.delete(p);
    }
    if (waiting.size === 0) break;
    if (Date.now() > deadline) {
      for (const p of [...waiting]) fail(p, `was not ready after ${Math.round(timeoutMs / 1000)} s (still running)`);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return failures;
}
