import { spawn } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runJetbus } from "../helpers/cli.ts";
import { freePort, NatsServer } from "../helpers/nats.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { waitFor } from "../helpers/wait.ts";

const procs: JetbusProcess[] = [];
let server: NatsServer | undefined;
let silent: { server: Server; sockets: Set<Socket> } | undefined;
test.after(async () => {
  await stopAll(procs);
  await server?.stop();
  for (const s of silent?.sockets ?? []) s.destroy();
  silent?.server.close();
});

/** A listener on loopback that accepts every connection and never sends a byte, nor closes one. */
async function silentListener(): Promise<{ url: string; sockets: Set<Socket>; accepted: () => number; firstAt: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let firstAt = 0;
  const server = createServer((s) => {
    if (accepted++ === 0) firstAt = Date.now();
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  silent = { server, sockets };
  const { port } = server.address() as { port: number };
  return { url: `nats://127.0.0.1:${port}`, sockets, accepted: () => accepted, firstAt: () => firstAt };
}

/** Wall time of one CLI run, in ms, and when it ended. */
async function timed(args: string[], env: Record<string, string> = {}, timeoutMs?: number) {
  const t0 = Date.now();
  const r = await runJetbus(args, env, timeoutMs);
  const endedAt = Date.now();
  return { ...r, ms: endedAt - t0, endedAt };
}

test("a one-shot command with no server answering exits 1 naming the URLs and the cause", async () => {
  const [a, b] = [await freePort(), await freePort()];
  const url = `nats://127.0.0.1:${a},nats://127.0.0.1:${b}`;
  // the runner kills it after 60s (start-up through tsx alone took up to 19 s on a loaded 2-core machine): the code
  // before the fix waited forever for a first connection
  const r = await runJetbus(["status"], { NATS_URL: url }, 60_000);
  assert.is(r.code, 1, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, "[NATS_UNREACHABLE]");
  assert.match(r.stderr, `nats://127.0.0.1:${a}`);
  assert.match(r.stderr, `nats://127.0.0.1:${b}`);
  assert.match(r.stderr, /ECONNREFUSED|refused/);
  assert.match(r.stderr, /hint: .*--servers/);
});

test("a malformed server URL is NATS_URL_INVALID (exit 2) naming the value and the forms, before any connection is tried", async () => {
  for (const [given, problem] of [
    ["127.0.0.1:4222x", 'the port "4222x" is not a number'],
    ["ws://127.0.0.1:4222", "the scheme ws:// is not nats:// or tls://"],
  ] as const) {
    const r = await runJetbus(["history", "--limit", "1", "--servers", `nats://127.0.0.1:4222,${given}`], {}, 30_000);
    assert.is(r.code, 2, `exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, `error [NATS_URL_INVALID]: not a NATS server URL: "${given}": ${problem}`);
    assert.match(r.stderr, /hint: write each server as host:port, nats:\/\/host:port or tls:\/\/host:port/);
  }
  const env = await runJetbus(["status"], { NATS_URL: "127.0.0.1:99999" }, 30_000);
  assert.is(env.code, 2, env.stderr);
  assert.match(env.stderr, 'not a NATS server URL: "127.0.0.1:99999"');
});

test("a host that accepts and never speaks fails a one-shot command within 6 s (start-up aside) naming the URL; the command exits", async () => {
  const listener = await silentListener();
  // the runner kills it after 40 s: the code before kept the process alive as long as the listener kept the socket
  const r = await timed(["history", "--limit", "1", "--servers", listener.url], {}, 40_000);
  assert.is(r.code, 1, `exit code, after ${r.ms} ms (stderr: ${r.stderr})`);
  assert.match(r.stderr, `[NATS_UNREACHABLE]: no NATS server answered at ${listener.url}`);
  assert.match(r.stderr, /\): timeout/);
  const tried = Number(/attempts? in ([\d.]+) s\)/.exec(r.stderr)?.[1]);
  assert.ok(tried <= 6, `tried for ${tried} s`);
  assert.ok(listener.accepted() >= 1, "the command reached the listener");
  // timed from the command's first connection to its exit, so tsx's start-up (1-19 s on a loaded 2-core
  // machine, which made a start-up baseline measured in a separate run a noisy reference) is not in it
  const failedIn = r.endedAt - listener.firstAt();
  assert.ok(failedIn < 6_000, `exited ${failedIn} ms after its first connection to the listener (whole run ${r.ms} ms)`);
  await waitFor(() => listener.sockets.size === 0, "every socket the command opened closed");
});

test("an address whose handshake never completes (SYN dropped) fails a one-shot command within 6 s (start-up aside)", async () => {
  // loopback only: a listener with an accept queue of one, stopped (SIGSTOP) and its queue filled,
  // so the kernel drops every further SYN, as a host that never answers would
  const child = spawn(
    process.execPath,
    ["-e", 'const s=require("net").createServer();s.listen({port:0,host:"127.0.0.1",backlog:1},()=>console.log(s.address().port))'],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const fillers: Socket[] = [];
  try {
    const port = await new Promise<number>((r) => child.stdout!.once("data", (d) => r(Number(String(d).trim()))));
    process.kill(child.pid!, "SIGSTOP");
    const connected: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const f = createConnection(port, "127.0.0.1");
      f.on("error", () => undefined);
      f.on("connect", () => connected.push(f));
      fillers.push(f);
    }
    await waitFor(() => connected.length >= 2 && fillers.some((f) => f.connecting), "the accept queue full, a handshake left waiting");
    const url = `nats://127.0.0.1:${port}`;
    // the runner kills it after 40 s: a dial without a socket to close held the process for the kernel's SYN retries (~2 min)
    const r = await timed(["history", "--limit", "1", "--servers", url], {}, 40_000);
    assert.is(r.code, 1, `exit code, after ${r.ms} ms (stderr: ${r.stderr})`);
    assert.match(r.stderr, `no NATS server answered at ${url}`);
    const tried = Number(/attempts? in ([\d.]+) s\)/.exec(r.stderr)?.[1]);
    assert.ok(tried <= 6, `tried for ${tried} s`);
    // the command's own clock (above) from its first dial; its exit code 1 before the runner's 40 s kill shows the
    // process no longer waits for the kernel's SYN retries (a wall-clock bound here would mostly time tsx's start-up)
  } finally {
    for (const f of fillers) f.destroy();
    child.kill("SIGKILL");
  }
});

test("a long-running command keeps trying, logs each attempt with the URL, and starts once a server is there", async () => {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const router = spawnJetbus("router", ["router", "--servers", url, "--no-http", "--no-indexer"], { JETBUS_LOG_LEVEL: "info" });
  procs.push(router);
  await router.waitOutput(/no NATS server answered; retrying/, 30_000);
  await router.waitOutput(/"attempt":2/, 30_000);
  assert.match(router.output(), url);
  assert.ok(router.running(), "still running while no server answers");
  server = await NatsServer.start({ port });
  await router.waitOutput(/router running/, 60_000);
});

test.run();
