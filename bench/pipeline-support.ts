/**
 * Pieces of the pipeline benches: a raw loader (core publishes with a reply subject and a
 * Nats-Msg-Id, a window of outstanding PubAcks), helper processes, and waiting on a work queue.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createInbox, headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import { isTransient } from "../runtime/nats/errors.ts";
import { wallNow } from "./latency-record.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const encoder = new TextEncoder();

export const BENCH_BODY = encoder.encode(JSON.stringify({ user_id: "user1", username: "john_doe", email: "john@example.com" }));

/** One message to publish: what encodeEvent returns, or a raw body with its headers. */
export type Outgoing = Readonly<{ subject: string; data: Uint8Array; headers?: MsgHdrs }>;

/**
 * Publishes messages 0..n-1 (`make(i)`) as fast as the server takes them: core publishes whose
 * reply subject collects the PubAck, at most `window` unanswered. Resolves with the first
 * publish's time (performance.now()) and the number of PubAcks that were errors.
 */
export function publishWindowed(
  nc: NatsConnection,
  n: number,
  make: (i: number) => Outgoing,
  window = 2000,
): Promise<{ started: number; errors: number }> {
  return new Promise((resolve) => {
    const inbox = createInbox();
    let sent = 0;
    let answered = 0;
    let errors = 0;
    let started = 0;
    const pump = () => {
      while (sent < n && sent - answered < window) {
        const m = make(sent);
        if (sent === 0) started = performance.now();
        nc.publish(m.subject, m.data, { reply: `${inbox}.${sent}`, headers: m.headers });
        sent++;
      }
    };
    const sub = nc.subscribe(`${inbox}.*`, {
      callback: (_err, msg) => {
        if (msg.data.length === 0 || msg.string().includes('"error"')) errors++;
        if (++answered === n) {
          sub.unsubscribe();
          resolve({ started, errors });
        } else pump();
      },
    });
    pump();
  });
}

/**
 * Publishes `n` copies of BENCH_BODY to `subject` as fast as the server takes them (see
 * publishWindowed), each with its own Nats-Msg-Id (`<prefix>-<i>`).
 */
export function rawLoad(
  nc: NatsConnection,
  subject: string,
  n: number,
  prefix: string,
  window = 2000,
): Promise<{ started: number; errors: number }> {
  return publishWindowed(
    nc,
    n,
    (i) => {
      const h = headers();
      h.set("Nats-Msg-Id", `${prefix}-${i}`);
      return { subject, data: BENCH_BODY, headers: h };
    },
    window,
  );
}

/**
 * Publishes `rate` messages/s for `seconds`: every 5 ms the messages due by then, each made by
 * `make(i, t)` with t = wallNow() just before its publish (a core publish with a reply subject for
 * the PubAck). Resolves with the number of error answers once every PubAck is in.
 */
export async function paced(nc: NatsConnection, rate: number, seconds: number, make: (i: number, t: number) => Outgoing): Promise<number> {
  const inbox = createInbox();
  const total = Math.round(rate * seconds);
  let answered = 0;
  let errors = 0;
  const allAnswered = new Promise<void>((resolve) => {
    const sub = nc.subscribe(`${inbox}.*`, {
      callback: (_err, msg) => {
        if (msg.data.length === 0 || msg.string().includes('"error"')) errors++;
        if (++answered === total) {
          sub.unsubscribe();
          resolve();
        }
      },
    });
  });
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.ceil(((performance.now() - start) / 1000) * rate));
    for (; sent < due; sent++) {
      const m = make(sent, wallNow());
      nc.publish(m.subject, m.data, { reply: `${inbox}.${sent}`, headers: m.headers });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await allAnswered;
  return errors;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere or once it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // fields after "(comm) ": state is [0], utime [11], stime [12], in clock ticks (100 per second on Linux)
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * CPU each process spent on a pass, in microseconds per event: read once everything is ready
 * (start-up excluded) and again when the pass is done. On two cores a pipeline cannot beat the
 * sum of these, so it shows which process a change has to make cheaper.
 */
export class CpuMeter {
  private readonly start = new Map<string, number | undefined>();
  constructor(private readonly pids: Readonly<Record<string, number | undefined>>) {
    for (const [name, pid] of Object.entries(pids)) this.start.set(name, cpuSeconds(pid));
  }
  /** Microseconds of CPU per event of each process since the meter was made; undefined for one that is gone. */
  perEvent(events: number): Record<string, number | undefined> {
    const out: Record<string, number | undefined> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const a = this.start.get(name);
      const b = cpuSeconds(pid);
      out[name] = a === undefined || b === undefined ? undefined : ((b - a) * 1e6) / events;
    }
    return out;
  }
  report(events: number): string {
    const parts = Object.entries(this.perEvent(events)).map(([name, us]) => `${name} ${us === undefined ? "?" : Math.round(us)}`);
    return `cpu us/event: ${parts.join(", ")}`;
  }
}

export type Helper = Readonly<{ child: ChildProcess; output(): string; stop(): Promise<void> }>;

/**
 * A helper process (node + tsx) started in the repo, ready once its output matches `ready`.
 * JETBUS_BENCH_NODE_ARGS adds node flags (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the helpers).
 */
export async function startHelper(args: readonly string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Helper> {
  const nodeArgs = process.env.JETBUS_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", ...args], {
    cwd: root,
    env: { ...process.env, JETBUS_LOG_JSON: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} from ${args.join(" ")} within 60s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited (${code}):\n${out}`)));
  });
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Resolves (with performance.now()) once `stream`, a work queue, has stored `n` messages and holds none: all acked. */
export async function drained(jsm: JetStreamManager, stream: string, n: number): Promise<number> {
  for (;;) {
    const s = (await jsm.streams.info(stream).catch(() => null))?.state;
    if (s && s.last_seq >= n && s.messages === 0) return performance.now();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves (with performance.now()) once durable `durable` of `stream` has acked `n` messages and holds none: a direct actor's store durable. */
export async function consumed(jsm: JetStreamManager, stream: string, durable: string, n: number): Promise<number> {
  for (;;) {
    const ci = await jsm.consumers.info(stream, durable).catch(() => null);
    if (ci && ci.ack_floor.stream_seq >= n && ci.num_pending === 0 && ci.num_ack_pending === 0) return performance.now();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Resolves (performance.now()) once every consumer of each stream has nothing pending and nothing
 * unacked: the events are not only handled but acked, including any hop and index after the
 * handler. Fails after `timeoutMs` naming the consumers still busy.
 */
export async function settledAt(jsm: JetStreamManager, streams: readonly string[], timeoutMs = 120_000, pollMs = 5): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy: string[] = [];
    try {
      for (const s of streams)
        for await (const ci of jsm.consumers.list(s))
          if (ci.num_pending > 0 || ci.num_ack_pending > 0)
            busy.push(`${s}/${ci.name} (${ci.num_pending} pending, ${ci.num_ack_pending} unacked)`);
    } catch (err) {
      // a busy server (a loaded machine, a million messages) can let a listing time out: ask again
      if (!isTransient(err)) throw err;
      busy.push(`(no answer: ${(err as Error).message})`);
    }
    if (busy.length === 0) return performance.now();
    if (Date.now() > deadline) throw new Error(`still busy after ${timeoutMs / 1000} s: ${busy.join(", ")}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
