import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, readLog } from "../fixtures/probe-handler.ts";
import { feed, probeConfig, probeEvent, testRuntime } from "../fixtures/actor-harness.ts";
import { startActors } from "../../runtime/actor/mod.ts";
import type { Runtime } from "../../runtime/app/bootstrap.ts";

let env: Awaited<ReturnType<typeof startServer>>;
let rt: Runtime | undefined;

test.before(async () => {
  env = await startServer();
  await ensureLogStream(env.nc);
});
test.after(async () => {
  await rt?.dispose().catch(() => undefined);
  await env?.stop();
});

test("a worker pauses while the server is down and resumes when it is back, without restarting", async () => {
  const config = probeConfig([{ name: "steady" }]);
  const actor = config.actors[0]!;
  rt = await testRuntime(env.server.url, config);
  const running = await startActors(rt, ["steady"], { replicas: 1 });
  const ended = async () => new Set((await readLog(env.nc)).filter((l) => l.phase === "end").map((l) => l.n));
  for (let n = 0; n < 3; n++) await feed(env.nc, actor, probeEvent({ n }));
  await waitFor(async () => (await ended()).size === 3, "first 3 handled", 30_000);
  const reconnected = (async () => {
    for await (const s of rt!.nc.status()) if (s.type === "reconnect") return true;
    return false;
  })();
  await env.server.restart();
  assert.ok(await reconnected, "worker connection reconnected");
  for (let n = 3; n < 6; n++)
    await waitFor(() => feed(env.nc, actor, probeEvent({ n })).then(() => true), `publish ${n} after restart`, 30_000);
  await waitFor(async () => (await ended()).size === 6, "events published after the restart handled by the same worker", 60_000);
  assert.is(running.workers.length, 1);
  await running.stop(5000);
});

test.run();
