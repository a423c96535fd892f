import { test } from "uvu";
import { spawn } from "node:child_process";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { runJetbus } from "../helpers/cli.ts";
import { waitFor } from "../helpers/wait.ts";

const jetbus = (args: string[]) => runJetbus(args);

const dir = mkdtempSync(join(tmpdir(), "jetbus-ops-e2e-"));
const configFile = join(dir, "jetbus.config.json");
writeFileSync(
  configFile,
  JSON.stringify({
    actors: [{ name: "projector" }, { name: "mailer", replicas: 2 }],
    routes: {
      rules: [
        { name: "users", match: { type: "User*" }, to: ["projector", "mailer"] },
        { name: "orders", match: { type: "OrderPlaced" }, to: ["mailer"] },
      ],
    },
    observability: { log_level: "warn" },
  }),
);
let server: Awaited<ReturnType<typeof startServer>>;

test.before(async () => {
  server = await startServer();
});
test.after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const common = () => ["--servers", server.server.url, "--config", configFile];

test("status --json on an empty server exits 0 and reports every part as not created yet", async () => {
  const r = await jetbus(["status", ...common(), "--json"]);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(
    report.actors.map((a: { name: string; lag: unknown; replicas: { desired: number } }) => [a.name, a.lag, a.replicas.desired]),
    [
      ["projector", null, 1],
      ["mailer", null, 2],
    ],
  );
  assert.is(report.inbox, "not created yet");
  assert.is(report.store.state, "not created yet");
  const text = await jetbus(["status", ...common()]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /projector\s+0\s+0\s+-/);
});

test("trace prints the tree of a correlation (exit 0); an unknown correlation exits 1; an empty id exits 2", async () => {
  const js = jetstream(server.nc);
  const jsm = await jetstreamManager(server.nc);
  await jsm.streams.add({ name: "EVENTS", subjects: ["events.>"], duplicate_window: 120_000_000_000 });
  const root = createEvent({ type: "UserCreated", data: { id: "u1" }, correlationid: "corr-e2e" });
  const child = createEvent({ type: "UserWelcomed", data: {}, correlationid: "corr-e2e", causationid: root.id });
  for (const e of [root, child, createEvent({ type: "OrderPlaced", data: {} })]) {
    const w = encodeEvent(e);
    await js.publish(w.subject, w.data, { headers: w.headers });
  }
  const r = await jetbus(["trace", "corr-e2e", ...common(), "--json"]);
  assert.is(r.code, 0, r.stderr);
  const tree = JSON.parse(r.stdout);
  assert.is(tree.events, 2);
  assert.is(tree.roots[0].event.id, root.id);
  assert.is(tree.roots[0].children[0].event.id, child.id);
  const text = await jetbus(["trace", "corr-e2e", ...common()]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`UserCreated ${root.id} #1[\\s\\S]*└─ UserWelcomed ${child.id} #2`));
  const missing = await jetbus(["trace", "no-such-flow", ...common()]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /no events with correlation id "no-such-flow"/);
  const empty = await jetbus(["trace", " ", ...common()]);
  assert.is(empty.code, 2);
});

test("replay sends history to one actor's inbox (exit 0); bad input exits 2", async () => {
  const jsm = await jetstreamManager(server.nc);
  // no JETBUS_INBOX yet: replay creates it as the router would
  const r = await jetbus(["replay", "projector", "--from", "1", "--all", ...common(), "--json"]);
  assert.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal([summary.actor, summary.scanned, summary.replayed, summary.firstSeq, summary.lastSeq], ["projector", 3, 3, 1, 3]);
  const info = await jsm.streams.info(Streams.Inbox, { subjects_filter: "actors.>" });
  assert.equal(info.state.subjects, { "actors.projector.0": 3 });

  // without --all the rules decide: User* and OrderPlaced both go to mailer; --to bounds the range
  const ruled = await jetbus(["replay", "mailer", "--from", "2", "--to", "3", ...common(), "--json"]);
  assert.is(ruled.code, 0, ruled.stderr);
  assert.equal([JSON.parse(ruled.stdout).replayed, JSON.parse(ruled.stdout).skipped], [2, 0]);
  const text = await jetbus(["replay", "projector", "--from", "1", ...common()]);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /2 event\(s\) sent to projector, 1 not routed to it; scanned 3 \(seq 1..3\)/);
  const after = await jsm.streams.info(Streams.Inbox, { subjects_filter: "actors.>" });
  assert.equal(after.state.subjects, { "actors.projector.0": 5, "actors.mailer.0": 2 });
  // the durables the inbox was created with now show the replayed copies as lag
  const status = await jetbus(["status", ...common(), "--json"]);
  assert.is(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout);
  assert.equal(
    report.actors.map((a: { name: string; lag: number; dlq: number }) => [a.name, a.lag, a.dlq]),
    [
      ["projector", 5, 0],
      ["mailer", 2, 0],
    ],
  );
  assert.equal([report.inbox, report.deadLetter, report.store.messages], ["ok", "ok", 3]);

  for (const args of [
    ["replay", "nobody", "--from", "1"],
    ["replay", "projector", "--from", "yesterday"],
    ["replay", "projector"],
    ["replay", "projector", "--from", "5", "--to", "2"],
  ]) {
    const bad = await jetbus([...args, ...common()]);
    assert.is(bad.code, 2, `${args.join(" ")}: ${bad.stderr}`);
    assert.not.match(bad.stderr, /at .*\.ts:\d+/, "no stack trace without --debug");
  }
  const unknown = await jetbus(["replay", "nobody", "--from", "1", ...common()]);
  assert.match(unknown.stderr, /unknown actor "nobody": the config defines projector, mailer/);
  // --from takes the points in time history --since takes: a week back covers every event stored here
  const week = await jetbus(["replay", "mailer", "--from", "1w", ...common(), "--json"]);
  assert.is(week.code, 0, week.stderr);
  const fromWeek = JSON.parse(week.stdout);
  assert.equal([fromWeek.scanned, fromWeek.firstSeq, fromWeek.lastSeq], [3, 1, 3]);
});

test("status --watch refreshes until Ctrl-C and then exits 0", async () => {
  const child = spawn(process.execPath, ["bin/jetbus.js", "status", "--watch", "--json", ...common()], {
    env: { ...process.env, NATS_URL: "" },
  });
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    await waitFor(() => stdout.split("\n").filter(Boolean).length >= 2, "two status refreshes", 30_000);
    child.kill("SIGINT");
    assert.is(await exited, 0);
    const reports = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(reports.length >= 2);
    assert.is.not(reports[0].at, reports[1].at);
  } finally {
    child.kill("SIGKILL");
  }
});

test.run();
