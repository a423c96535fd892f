import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { ensureStore } from "../../runtime/store/stream.ts";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

// `history --since` and `replay --from` read times with one parser: the same text selects the same events
const dir = mkdtempSync(join(tmpdir(), "jetbus-time-e2e-"));
const configFile = join(dir, "jetbus.config.json");
writeFileSync(configFile, JSON.stringify({ actors: [{ name: "projector" }], observability: { log_level: "warn" } }));
let server: Awaited<ReturnType<typeof startServer>>;

test.before(async () => {
  server = await startServer();
});
test.after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const common = () => ["--servers", server.server.url, "--config", configFile, "--json"];

async function publish(n: number): Promise<void> {
  const js = jetstream(server.nc);
  for (let i = 0; i < n; i++) {
    const w = encodeEvent(createEvent({ type: "UserCreated", data: { i } }));
    await js.publish(w.subject, w.data, { headers: w.headers });
  }
}

/** Store sequences `history` lists from `since`. */
async function historySeqs(since: string): Promise<number[]> {
  const r = await runJetbus(["history", "--since", since, ...common()]);
  assert.is(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
}

/** First and last store sequence `replay --all` scans from `from`. */
async function replaySeqs(from: string): Promise<number[]> {
  const r = await runJetbus(["replay", "projector", "--from", from, "--all", ...common()]);
  assert.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { firstSeq: number; lastSeq: number; scanned: number };
  return Array.from({ length: s.scanned }, (_, i) => s.firstSeq + i);
}

/** The store time of one event, as the server holds it (nanoseconds) and as jetbus prints and compares it (milliseconds). */
async function storedTime(seq: number): Promise<{ raw: string; ms: Date }> {
  const m = await (await jetstreamManager(server.nc)).streams.getMessage(configFrom({}).store.stream, { seq });
  assert.ok(m, `event ${seq} is stored`);
  return { raw: m.timestamp, ms: m.time };
}

// The time flags compare an event's store time at the millisecond `history` prints (the server
// keeps nanoseconds; an ISO time on the command line has milliseconds at most): `--since T`
// includes every event of T's millisecond, so the printed time of an event selects that event.
// This test once took its mark with `new Date()` right after event 2 was acked: when the mark
// fell in the millisecond of event 2 (stored at .123456 ns, mark .123), `--since mark` rightly
// listed event 2 and the test, expecting [3,4,5], failed. The boundary is now placed from the
// stored times themselves, on both sides.
test("replay --from 1w selects what history --since 1w lists, and so does an ISO time at and after an event's millisecond", async () => {
  await ensureStore(await jetstreamManager(server.nc), configFrom({}).store);
  await publish(1);
  // event 2 in a later millisecond than event 1, so that its own millisecond selects it alone
  const first = await storedTime(1);
  await waitFor(() => Date.now() > first.ms.getTime() + 1, "the clock past event 1's millisecond");
  await publish(1);
  const second = await storedTime(2);
  assert.ok(second.ms > first.ms, `event 2 (${second.raw}) is stored in a later millisecond than event 1 (${first.raw})`);
  // the first millisecond after event 2's: past everything stored so far, whatever its nanoseconds
  const mark = new Date(second.ms.getTime() + 1);
  await waitFor(() => Date.now() > mark.getTime() + 5, "the clock past the mark");
  await publish(3);
  const third = await storedTime(3);
  assert.ok(
    third.ms >= mark,
    `event 3 (${third.raw}) is stored at or after the mark (${mark.toISOString()}): the server's clock is this machine's`,
  );

  const week = await historySeqs("1w");
  assert.equal(week, [1, 2, 3, 4, 5]);
  assert.equal(await replaySeqs("1w"), week, "replay --from 1w");
  const later = await historySeqs(mark.toISOString());
  assert.equal(later, [3, 4, 5]);
  assert.equal(await replaySeqs(mark.toISOString()), later, "replay --from an ISO time");

  // event 2's own millisecond (what `history` prints for it) selects it, though it was stored some nanoseconds after
  assert.match(second.raw, /\.\d{3}/, "the server's time has sub-second digits");
  const atSecond = second.ms.toISOString();
  assert.equal(await historySeqs(atSecond), [2, 3, 4, 5], `--since ${atSecond} (event 2 at ${second.raw})`);
  assert.equal(await replaySeqs(atSecond), [2, 3, 4, 5], `replay --from ${atSecond}`);
  const until = await runJetbus(["history", "--until", atSecond, ...common()]);
  assert.is(until.code, 0, until.stderr);
  assert.equal(
    until.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { seq: number }).seq),
    [1, 2],
    `--until ${atSecond} includes event 2 too`,
  );
});

test("a time neither understands exits 2 naming the flag, the value and the accepted forms", async () => {
  const cases: Array<[string[], string]> = [
    [["history", "--since", "1y"], "--since"],
    [["replay", "projector", "--from", "1y"], "--from"],
  ];
  for (const [args, flag] of cases) {
    const r = await runJetbus([...args, ...common()]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, `${flag}: "1y" is not valid; use`);
    assert.match(r.stderr, "a duration ago (30s, 15m, 2h, 7d, 1w");
  }
});

test.run();
