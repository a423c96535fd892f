import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { NatsServerFailedError } from "../errors.ts";

export type NodePorts = Readonly<{ client: number; cluster: number; http: number }>;
export type LocalNode = Readonly<{ name: string; pid: number; ports: NodePorts; config: string; log: string }>;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function acceptsClients(port: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => (sock.destroy(), res(ok));
    sock.setTimeout(1000, () => done(false));
    sock.once("data", (b) => done(b.toString().startsWith("INFO ")));
    sock.once("error", () => done(false));
  });
}

/** Starts one node from its generated config as a detached process (it outlives this command); returns it with its new pid. */
export function launchNode(bin: string, node: Omit<LocalNode, "pid">, env: NodeJS.ProcessEnv): LocalNode {
  const out = openSync(node.log, "a");
  const child = spawn(bin, ["-c", node.config], { detached: true, stdio: ["ignore", out, out], env });
  child.unref();
  return { ...node, pid: child.pid! };
}

/** Waits until every node answers clients with INFO; a node that exits meanwhile fails with its log's tail. */
export async function waitAcceptingClients(nodes: readonly LocalNode[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const n of nodes) {
    while (!(await acceptsClients(n.ports.client))) {
      if (!alive(n.pid))
        throw new NatsServerFailedError(
          `${n.name} exited during start-up; log: ${n.log}\n${readFileSync(n.log, "utf8").split("\n").slice(-10).join("\n")}`,
        );
      if (Date.now() > deadline) throw new NatsServerFailedError(`${n.name} did not accept clients in time; log: ${n.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
