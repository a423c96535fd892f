import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, readLog, releaseEvent } from "../fixtures/probe-handler.ts";
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
  // held until released below: with a fixed handler time (it was 1.5 s), a loaded machine could
  // reach the SIGTERM after the handlers had finished, and there was no drain left to observe
  const events = Array.from({ length: 3 }, (_, n) => probeEvent({ n, hold: true }));
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
  p.child.kill("SIGTERM");
  // a signal reaches the process on its own schedule: an event published right after kill() could
  // arrive before the process handled the signal, and it would rightly take it. Its log line says it
  // handled it (the worker stops taking deliveries in that same turn); what comes after must not be taken.
  await waitFor(() => /stopping: finishing in-flight events/.test(p.output()), "the actor handled SIGTERM", 30_000);
  const late = probeEvent({ n: 99 });
  const lateSeq = await feed(env.nc, actor, late);
  // the three handlers still run: an orchestrator must see the drain
  assert.is(await waitFor(async () => ((await readyz()) === 503 ? 503 : null), "readyz 503 while draining", 10_000), 503);
  assert.is(p.child.exitCode, null, "still draining when readyz said 503");
  for (const e of events) await releaseEvent(env.nc, e.id);
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
  // held until the victim is gone: a fixed handler time could end on a loaded machine before the kill
  const event = probeEvent({ n: 1, hold: true });
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
  await releaseEvent(env.nc, event.id);
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
