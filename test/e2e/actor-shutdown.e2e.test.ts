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
import { Streams } from "../../runtime/topology.ts";

let env: Awaited<ReturnType<typeof startServer>>;
const procs: ActorProcess[] = [];

test.before(async () => {
  env = await startServer();
  await ensureLogStream(env.nc);
});
test.after(async () => {
  await killAll(procs);
  await env?.stop();
});

test("SIGTERM: the worker stops fetching, finishes and acks what is in flight, and exits 0", async () => {
  const config = probeConfig([{ name: "drain", concurrency: 3 }]);
  const actor = config.actors[0]!;
  const jsm = await jetstreamManager(env.nc);
  await ensureInbox(jsm, config);
  // info level: the "actor running" line names the /readyz port (0 in the config: a free one)
  const p = spawnActor(writeConfig({ ...config, observability: { ...config.observability, log_level: "info" } }), env.server.url, "drain", [
    "--grace",
    "20s",
  ]);
  procs.push(p);
  await waitReady(env.nc, p, "drain");
  const events = Array.from({ length: 3 }, (_, n) => probeEvent({ n, delay_ms: 1500 }));
  const seqs: number[] = [];
  for (const e of events) seqs.push(await feed(env.nc, actor, e));
  await waitFor(
    async () => (await readLog(env.nc)).filter((l) => l.actor === "drain" && l.phase === "start").length === 3,
    "3 events in flight",
    30_000,
  );
  // wait for the line rather than read the output once: it arrives through a pipe, on the child's schedule
  const port = await waitFor(
    () => /"http":":(\d+)"/.exec(p.output())?.[1],
    `the actor names its /readyz port (output so far: ${p.output()})`,
    30_000,
  );
  const readyz = () => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status);
  assert.is(await readyz(), 200, "ready while running");
  // queued behind them: must not be taken once the signal arrived
  const late = probeEvent({ n: 99 });
  p.child.kill("SIGTERM");
  const lateSeq = await feed(env.nc, actor, late);
  // the three handlers still run for about a second: an orchestrator must see the drain
  assert.is(await waitFor(async () => ((await readyz()) === 503 ? 503 : null), "readyz 503 while draining", 10_000), 503);
  assert.is(p.child.exitCode, null, "still draining when readyz said 503");
  const { code, signal } = await p.exited;
  assert.is(signal, null, p.output());
  assert.is(code, 0, p.output());
  const log = (await readLog(env.nc)).filter((l) => l.actor === "drain");
  for (const e of events)
    assert.ok(
      log.some((l) => l.eventId === e.id && l.phase === "end"),
      `event ${e.id} finished before exit`,
    );
  assert.not.ok(
    log.some((l) => l.eventId === late.id),
    "nothing new started after SIGTERM",
  );
  // acked = removed from the work queue; the late event stays for the next replica
  for (const seq of seqs) assert.is(await jsm.streams.getMessage(Streams.Inbox, { seq }).catch(() => null), null, `inbox seq ${seq} acked`);
  assert.ok(await jsm.streams.getMessage(Streams.Inbox, { seq: lateSeq }), "the late event is still in the inbox");
});

test("SIGKILL mid-event: the event is redelivered after ack_wait to another replica process, which finishes it", async () => {
  const config = probeConfig([{ name: "crash", concurrency: 1, ack_wait: "2s" }]);
  const actor = config.actors[0]!;
  await ensureInbox(await jetstreamManager(env.nc), config);
  const file = writeConfig(config);
  const a = spawnActor(file, env.server.url, "crash");
  const b = spawnActor(file, env.server.url, "crash");
  procs.push(a, b);
  await Promise.all([waitReady(env.nc, a, "crash"), waitReady(env.nc, b, "crash")]);
  const event = probeEvent({ n: 1, delay_ms: 4000 });
  await feed(env.nc, actor, event);
  const started = await waitFor(
    async () => (await readLog(env.nc)).find((l) => l.eventId === event.id && l.phase === "start"),
    "event started",
    30_000,
  );
  const victim = started.pid === a.pid ? a : b;
  const survivor = victim === a ? b : a;
  victim.child.kill("SIGKILL");
  await victim.exited;
  const end = await waitFor(
    async () => (await readLog(env.nc)).find((l) => l.eventId === event.id && l.phase === "end"),
    "event finished after redelivery",
    60_000,
    200,
  );
  assert.is(end.pid, survivor.pid);
  assert.is(end.attempt, 2);
  assert.not.ok((await readLog(env.nc)).some((l) => l.eventId === event.id && l.phase === "end" && l.pid === victim.pid));
});

test.run();
