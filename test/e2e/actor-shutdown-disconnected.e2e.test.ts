// After SIGTERM an actor process waits (up to --grace) for in-flight events to finish and be
// acked. With the server gone nothing can be acked, so it must not wait: it exits at once and the
// events are redelivered (after ack_wait) to whoever consumes next.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, readLog } from "../fixtures/probe-handler.ts";
import { feed, probeConfig, probeEvent } from "../fixtures/actor-harness.ts";
import { killAll, spawnActor, waitReady, writeConfig, type ActorProcess } from "../fixtures/actor-process.ts";
import { ensureInbox } from "../../runtime/actor/mod.ts";

const procs: ActorProcess[] = [];
test.after(async () => {
  await killAll(procs);
});

/** An actor process with one event in flight whose handler would run for ten minutes, on a server of its own. */
async function actorWithLongEvent(name: string) {
  const env = await startServer();
  await ensureLogStream(env.nc);
  const config = probeConfig([{ name, concurrency: 1 }]);
  await ensureInbox(await jetstreamManager(env.nc), config);
  // a grace period far longer than the test waits: only a prompt exit passes
  const p = spawnActor(writeConfig({ ...config, observability: { ...config.observability, log_level: "info" } }), env.server.url, name, [
    "--grace",
    "10m",
    "--no-http",
  ]);
  procs.push(p);
  await waitReady(env.nc, p, name);
  const event = probeEvent({ n: 1, delay_ms: 600_000 });
  await feed(env.nc, config.actors[0]!, event);
  await waitFor(
    async () => (await readLog(env.nc)).some((l) => l.eventId === event.id && l.phase === "start"),
    "the long event started",
    30_000,
  );
  return { env, p };
}

const exitsWithin = (p: ActorProcess, ms: number) =>
  waitFor(() => (p.child.exitCode !== null || p.child.signalCode !== null ? true : null), `actor process ${p.pid} exited`, ms, 100);

test("SIGTERM with the server already gone: exits without waiting out the grace period", async () => {
  const { env, p } = await actorWithLongEvent("lonely");
  await env.stop();
  await waitFor(() => /disconnected from NATS/.test(p.output()), "the actor noticed the server is gone", 30_000);
  p.child.kill("SIGTERM");
  await exitsWithin(p, 60_000);
  const { code } = await p.exited;
  assert.is(code, 0, p.output());
  assert.match(p.output(), /NATS is unreachable: not waiting for in-flight events/);
  assert.match(p.output(), /"abandoned":1/);
});

test("the server goes away during the grace period: the process stops waiting at once", async () => {
  const { env, p } = await actorWithLongEvent("stranded");
  p.child.kill("SIGTERM");
  await waitFor(() => /stopping: finishing in-flight events/.test(p.output()), "the actor is draining", 30_000);
  await env.stop();
  await exitsWithin(p, 60_000);
  const { code } = await p.exited;
  assert.is(code, 0, p.output());
  assert.match(p.output(), /NATS is unreachable: not waiting for in-flight events/);
});

test.run();
