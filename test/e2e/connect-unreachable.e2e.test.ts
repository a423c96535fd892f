import { test } from "uvu";
import * as assert from "uvu/assert";
import { runJetbus } from "../helpers/cli.ts";
import { freePort, NatsServer } from "../helpers/nats.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";

const procs: JetbusProcess[] = [];
let server: NatsServer | undefined;
test.after(async () => {
  await stopAll(procs);
  await server?.stop();
});

test("a one-shot command with no server answering exits 1 naming the URLs and the cause", async () => {
  const [a, b] = [await freePort(), await freePort()];
  const url = `nats://127.0.0.1:${a},nats://127.0.0.1:${b}`;
  // the runner kills it after 20s: today's code waited forever for a first connection
  const r = await runJetbus(["status"], { NATS_URL: url }, 20_000);
  assert.is(r.code, 1, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, "[NATS_UNREACHABLE]");
  assert.match(r.stderr, `nats://127.0.0.1:${a}`);
  assert.match(r.stderr, `nats://127.0.0.1:${b}`);
  assert.match(r.stderr, /ECONNREFUSED|refused/);
  assert.match(r.stderr, /hint: .*--servers/);
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
