// `jetbus status` after a crash: a replica process killed with kill -9 and started again is one
// replica at once (not two until its heartbeat expires), and two processes of one replica each read
// as two replicas in two processes.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";

const dir = mkdtempSync(join(tmpdir(), "jetbus-status-replicas-"));
const configFile = join(dir, "jetbus.config.json");
writeFileSync(configFile, JSON.stringify({ actors: [{ name: "worker", handler: "noop", replicas: 1 }] }));
const procs: JetbusProcess[] = [];
let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  await stopAll(procs);
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function actorProcess(label: string): Promise<JetbusProcess> {
  const p = spawnJetbus(label, ["actor", "worker", "--servers", env.server.url, "--config", configFile, "--no-http"], {
    JETBUS_LOG_LEVEL: "info",
  });
  procs.push(p);
  await p.waitOutput(/actor running/);
  return p;
}

type Replicas = { live: number; processes: number; list: { pid?: number }[] };

async function status(): Promise<{ replicas: Replicas; text: string }> {
  const json = await runJetbus(["status", "--json", "--servers", env.server.url, "--config", configFile]);
  assert.is(json.code, 0, json.stderr);
  const text = await runJetbus(["status", "--servers", env.server.url, "--config", configFile]);
  return { replicas: JSON.parse(json.stdout).actors[0].replicas as Replicas, text: text.stdout };
}

test("kill -9 and a restart: one replica at once; two processes of one replica: 2 replicas in 2 processes", async () => {
  const first = await actorProcess("first");
  first.child.kill("SIGKILL");
  await first.exited;
  // right after the kill, while the restart starts: its heartbeat is seconds old (it counted until
  // the entry expired, 10 s after its last beat) but status runs on its host and sees the pid gone
  const [killed, second] = await Promise.all([status(), actorProcess("second")]);
  assert.equal(
    killed.replicas.list.map((r) => r.pid).filter((pid) => pid === first.pid),
    [],
    "the killed process is not listed",
  );
  const after = await status();
  assert.equal([after.replicas.live, after.replicas.processes], [1, 1], JSON.stringify(after.replicas));
  assert.equal(
    after.replicas.list.map((r) => r.pid),
    [second.pid],
  );
  assert.match(after.text, /^worker\s+1\s+1\s/m);

  const third = await actorProcess("third");
  const both = await status();
  assert.equal([both.replicas.live, both.replicas.processes], [2, 2], JSON.stringify(both.replicas));
  assert.equal(both.replicas.list.map((r) => r.pid).sort(), [second.pid, third.pid].sort());
  assert.match(both.text, /^ACTOR\s+REPLICAS\s+PROCESSES/m);
  assert.match(both.text, /^worker\s+2\s+2\s/m);
});

test.run();
