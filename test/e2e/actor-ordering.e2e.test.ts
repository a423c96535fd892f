import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, readLog, type LogEntry } from "../fixtures/probe-handler.ts";
import { feed, probeConfig, probeEvent } from "../fixtures/actor-harness.ts";
import { killAll, spawnActor, waitReady, writeConfig, type ActorProcess } from "../fixtures/actor-process.ts";
import { ensureInbox } from "../../runtime/actor/mod.ts";

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

/**
 * Walks one key's log in stored order and fails on anything strict ordering forbids: a start while
 * another event of the key is in progress (unless it is the same event taken over from the killed
 * process), or an event starting before its predecessor ended.
 */
function checkKey(key: string, entries: readonly LogEntry[], killedPid: number, perKey: number): void {
  let open: LogEntry | undefined;
  let lastEnded = -1;
  for (const e of entries) {
    if (e.phase === "start") {
      if (open) {
        assert.ok(
          open.pid === killedPid && open.n === e.n,
          `key ${key}: event ${e.n} started while ${open.n} was in progress in live process ${open.pid}`,
        );
      } else if (e.n !== lastEnded + 1) {
        // an event the killed process finished but did not ack may run again (at-least-once)
        assert.ok(
          e.n === lastEnded && entries.some((x) => x.n === e.n && x.phase === "end" && x.pid === killedPid),
          `key ${key}: event ${e.n} started after ${lastEnded} (out of order)`,
        );
      }
      open = e;
    } else {
      assert.ok(open && open.n === e.n, `key ${key}: end of ${e.n} without its start`);
      lastEnded = Math.max(lastEnded, e.n!);
      open = undefined;
    }
  }
  assert.is(lastEnded, perKey - 1, `key ${key}: every event ended`);
}

test("per-key order holds across three replica processes while one is SIGKILLed mid-run", async () => {
  const KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"];
  const PER_KEY = 10;
  const config = probeConfig([{ name: "seq", ordered: { key: "correlationid", partitions: 4 }, ack_wait: "2s", concurrency: 4 }]);
  const actor = config.actors[0]!;
  await ensureInbox(await jetstreamManager(env.nc), config);
  const file = writeConfig(config);
  for (let i = 0; i < 3; i++) procs.push(spawnActor(file, env.server.url, "seq", ["--replicas", "1"]));
  await Promise.all(procs.map((p) => waitReady(env.nc, p, "seq")));
  // event n=LONG of every key is slow, so a process seen starting one is still inside it when killed
  const LONG = 2;
  for (let n = 0; n < PER_KEY; n++)
    for (const key of KEYS) await feed(env.nc, actor, probeEvent({ n, key, delay_ms: n === LONG ? 1200 : 150 }, { correlationid: key }));

  const victim = await waitFor(
    async () => {
      const log = await readLog(env.nc);
      const ended = new Set(log.filter((l) => l.phase === "end").map((l) => `${l.eventId}`));
      const busy = log.find((l) => l.phase === "start" && l.n === LONG && !ended.has(l.eventId));
      return busy ? procs.find((p) => p.pid === busy.pid) : null;
    },
    "a process inside a slow event",
    60_000,
    5,
  );
  victim.child.kill("SIGKILL");
  await victim.exited;

  await waitFor(
    async () => new Set((await readLog(env.nc)).filter((l) => l.phase === "end").map((l) => l.eventId)).size === KEYS.length * PER_KEY,
    "every event handled",
    90_000,
    200,
  );
  const log = await readLog(env.nc);
  for (const key of KEYS)
    checkKey(
      key,
      log.filter((l) => l.key === key),
      victim.pid,
      PER_KEY,
    );
  // all three processes took part, and different keys ran at the same time (parallelism across partitions)
  assert.is(new Set(log.map((l) => l.pid)).size, 3);
  // what the killed process had started and not finished was redelivered to a live one and finished there
  const victimEnded = new Set(log.filter((l) => l.pid === victim.pid && l.phase === "end").map((l) => l.eventId));
  const interrupted = log.filter((l) => l.pid === victim.pid && l.phase === "start" && !victimEnded.has(l.eventId));
  assert.ok(interrupted.length >= 1, "the killed process had an event in flight");
  for (const i of interrupted)
    assert.ok(
      log.some((l) => l.eventId === i.eventId && l.phase === "end" && l.pid !== victim.pid && l.attempt >= 2),
      `event ${i.n} of ${i.key} finished elsewhere after redelivery`,
    );
  let open = 0;
  let maxOpen = 0;
  for (const l of log) {
    open += l.phase === "start" ? 1 : -1;
    maxOpen = Math.max(maxOpen, open);
  }
  assert.ok(maxOpen >= 2, `different keys in parallel (max ${maxOpen} at once)`);
});

test.run();
