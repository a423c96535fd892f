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

test("replay --from 1w selects what history --since 1w lists, and so does an ISO time between events", async () => {
  await ensureStore(await jetstreamManager(server.nc), configFrom({}).store);
  await publish(2);
  const mark = new Date();
  await waitFor(() => Date.now() > mark.getTime() + 5, "the clock past the mark");
  await publish(3);

  const week = await historySeqs("1w");
  assert.equal(week, [1, 2, 3, 4, 5]);
  assert.equal(await replaySeqs("1w"), week, "replay --from 1w");
  const later = await historySeqs(mark.toISOString());
  assert.equal(later, [3, 4, 5]);
  assert.equal(await replaySeqs(mark.toISOString()), later, "replay --from an ISO time");
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
