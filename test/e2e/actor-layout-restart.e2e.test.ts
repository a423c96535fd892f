// Changing an actor between unordered and ordered, and its partition count, is a restart: `up`
// (and `jetbus router` + `jetbus actor`) started again with the edited config run it, with every
// copy that waited in the old durables handled, each key in order under an ordered layout.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import type { Event } from "../../runtime/events/types.ts";
import { Streams } from "../../runtime/topology.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { ensureLogStream, readLog, type LogEntry } from "../fixtures/probe-handler.ts";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const ACTOR = "sw";
const dir = mkdtempSync(join(tmpdir(), "jetbus-layout-restart-"));
const file = join(dir, "jetbus.config.json");
const started: JetbusProcess[] = [];
let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
  await ensureLogStream(env.nc);
});
test.after(async () => {
  await stopAll(started);
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The config with the actor unordered or ordered on data.key; one event at a time, 100 ms each, so copies wait in the inbox. */
async function writeAndApply(ordered: number | undefined): Promise<void> {
  writeFileSync(
    file,
    JSON.stringify({
      actors: [
        {
          name: ACTOR,
          handler: "probe",
          concurrency: 1,
          options: { delay_ms: 100 },
          ...(ordered ? { ordered: { key: "data.key", partitions: ordered } } : {}),
        },
      ],
      routes: { rules: [{ name: "switched", match: { type: "Switched" }, to: [ACTOR] }] },
    }),
  );
  // on a deployment the live revision is the operator's: apply it, as `up` says to
  const applied = await runJetbus(["config", "apply", file, "--servers", env.server.url]);
  assert.is(applied.code, 0, applied.stderr);
}

function spawn(label: string, args: string[]): JetbusProcess {
  const p = spawnJetbus(label, [...args, "--config", file, "--servers", env.server.url, "--no-http"], { JETBUS_LOG_LEVEL: "info" });
  started.push(p);
  return p;
}

async function publish(from: number, count: number): Promise<Event[]> {
  const js = jetstream(env.nc);
  const events: Event[] = [];
  for (let n = from; n < from + count; n++) {
    const e = createEvent({ type: "Switched", data: { n, key: `k${n % 4}` }, source: "test" });
    const wire = encodeEvent(e);
    await js.publish(wire.subject, wire.data, { headers: wire.headers });
    events.push(e);
  }
  return events;
}

async function log(): Promise<LogEntry[]> {
  return (await readLog(env.nc)).filter((l) => l.actor === ACTOR);
}

async function inboxWaiting(): Promise<number> {
  const jsm = await jetstreamManager(env.nc);
  const info = await jsm.streams.info(Streams.Inbox, { subjects_filter: `actors.${ACTOR}.>` });
  return Object.values(info.state.subjects ?? {}).reduce((n, c) => n + c, 0);
}

async function durables(): Promise<string[]> {
  const jsm = await jetstreamManager(env.nc);
  const names: string[] = [];
  for await (const ci of jsm.consumers.list(Streams.Inbox)) names.push(ci.name);
  return names.filter((n) => n === ACTOR || n.startsWith(`${ACTOR}-p`)).sort();
}

/** Stops the processes once `count` more events ended, leaving the rest of the copies in the inbox. */
async function stopWithBacklog(ps: JetbusProcess[], endedBefore: number, count: number): Promise<void> {
  await waitFor(async () => (await log()).filter((l) => l.phase === "end").length >= endedBefore + count, `${count} handled`, 60_000);
  await stopAll(ps);
  for (const p of ps) assert.is(p.child.exitCode, 0, p.output());
  assert.ok((await inboxWaiting()) > 0, "copies wait in the inbox across the restart");
}

/** Per key, the first handlings by process `pid` start in the order the events were published. */
function assertOrderedIn(entries: readonly LogEntry[], pid: number): void {
  const first = new Set<string>();
  const last = new Map<string, number>();
  for (const l of entries) {
    if (l.pid !== pid || l.phase !== "start" || first.has(l.eventId)) continue;
    first.add(l.eventId);
    assert.ok(l.n! > (last.get(l.key!) ?? -1), `key ${l.key}: n=${l.n} after n=${last.get(l.key!)}`);
    last.set(l.key!, l.n!);
  }
  assert.ok(first.size > 0, `process ${pid} handled events`);
}

test("up restarted unordered -> 4 partitions -> 3 partitions, then router + actor unordered: every event handled, keys in order", async () => {
  await writeAndApply(undefined);
  const a = spawn("up-unordered", ["up"]);
  await a.waitOutput(/jetbus is up/);
  const events = await publish(0, 40);
  await stopWithBacklog([a], 0, 3);

  await writeAndApply(4);
  const b = spawn("up-4", ["up"]);
  await b.waitOutput(/jetbus is up/);
  assert.equal(await durables(), ["sw-p0", "sw-p1", "sw-p2", "sw-p3"]);
  events.push(...(await publish(40, 20)));
  const ended = (await log()).filter((l) => l.phase === "end").length;
  await stopWithBacklog([b], ended, 3);

  await writeAndApply(3);
  const c = spawn("up-3", ["up"]);
  await c.waitOutput(/jetbus is up/);
  assert.equal(await durables(), ["sw-p0", "sw-p1", "sw-p2"]);
  const ended2 = (await log()).filter((l) => l.phase === "end").length;
  await stopWithBacklog([c], ended2, 3);

  // back to unordered, as separate processes
  await writeAndApply(undefined);
  const router = spawn("router", ["router"]);
  const actor = spawn("actor", ["actor", ACTOR]);
  await router.waitOutput(/router running/);
  await actor.waitOutput(/actor running/);
  assert.equal(await durables(), [ACTOR]);
  const ids = new Set(events.map((e) => e.id));
  const entries = await waitFor(
    async () => {
      const l = await log();
      const ended = new Set(l.filter((x) => x.phase === "end").map((x) => x.eventId));
      return [...ids].every((id) => ended.has(id)) ? l : null;
    },
    "all 60 events handled",
    90_000,
  );
  await waitFor(async () => (await inboxWaiting()) === 0, "the inbox empty");
  assertOrderedIn(entries, b.pid);
  assertOrderedIn(entries, c.pid);
  await stopAll([router, actor]);
});

test.run();
