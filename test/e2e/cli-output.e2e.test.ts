// What a person sees of one-shot commands' output: `state list` as a table, a reader that goes
// away (`| head`) ends a command quietly, and a key with no state points at the command that lists them.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { ensureStore } from "../../runtime/store/stream.ts";
import { REPO_ROOT, runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { commitChange } from "../fixtures/state-change.ts";

const dir = mkdtempSync(join(tmpdir(), "jetbus-cli-output-"));
const configFile = join(dir, "jetbus.config.json");
writeFileSync(configFile, JSON.stringify({ actors: [], observability: { log_level: "warn" } }));
let env: Awaited<ReturnType<typeof startServer>>;

test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const common = () => ["--servers", env.server.url, "--config", configFile];

const setState = (store: StateStore, key: string, value: unknown) => commitChange(store, key, { kind: "set", value });

/**
 * Runs the CLI with a reader that takes the first chunk of stdout and then closes its end, as
 * `| head -1` does; resolves with the exit code, the signal and stderr.
 */
function runThenCloseOutput(args: readonly string[]): Promise<{ code: number | null; signal: string | null; stderr: string; got: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/jetbus.js", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NATS_URL: "", JETBUS_LOG_JSON: "1", JETBUS_LOG_LEVEL: "warn" },
    });
    let stderr = "";
    let got = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.once("data", (d) => {
      got = String(d);
      child.stdout.destroy();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, got });
    });
  });
}

test("state list shows each key with its revision, time, event and state as a table; --json prints the same rows", async () => {
  const store = await StateStore.open(env.nc, "counter", { replicas: 1 });
  const first = await setState(store, "k1", { n: 1 });
  const second = await setState(store, "order 42", { n: 2, items: ["a".repeat(100)] });
  const r = await runJetbus(["state", "list", "counter", ...common()]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^KEY\s+REVISION\s+CHANGED\s+EVENT\s+STATE$/);
  assert.is(lines.length, 3);
  assert.match(lines[1]!, new RegExp(`^k1\\s+\\d+\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+${first}\\s+\\{"n":1\\}$`));
  assert.match(lines[2]!, new RegExp(`^order 42\\s+\\d+\\s+\\S+Z\\s+${second}\\s+\\{"n":2,"items":\\["a+\\.\\.\\.$`));
  assert.ok(lines[2]!.split(/\s{2,}/).at(-1)!.length === 80, `a long state is cut to 80 characters:\n${r.stdout}`);
  const json = await runJetbus(["state", "list", "counter", "--json", ...common()]);
  assert.equal(
    json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).state),
    [{ n: 1 }, { n: 2, items: ["a".repeat(100)] }],
  );
});

test("state get and state history of a key with no state: NOT_FOUND, and the hint names `jetbus state list ACTOR`", async () => {
  for (const cmd of ["get", "history"]) {
    const r = await runJetbus(["state", cmd, "counter", "nobody", ...common()]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, "[NOT_FOUND]");
    assert.match(r.stderr, "hint: `jetbus state list counter` shows the keys that hold a state");
  }
});

test("a reader that goes away (| head) ends history --json and state list --json quietly, exit 0, no stack trace", async () => {
  await ensureStore(await jetstreamManager(env.nc), configFrom({}).store);
  const js = jetstream(env.nc);
  const pad = "x".repeat(600);
  // far more than a pipe holds (64 KiB): the command is still writing when the reader leaves
  for (let i = 0; i < 600; i++) {
    const w = encodeEvent(createEvent({ type: "Padded", data: { i, pad } }));
    await js.publish(w.subject, w.data, { headers: w.headers });
  }
  const store = await StateStore.open(env.nc, "wide", { replicas: 1 });
  for (let i = 0; i < 300; i++) await setState(store, `key-${i}`, { i, pad });
  for (const args of [
    ["history", "--json"],
    ["state", "list", "wide", "--json"],
  ]) {
    const r = await runThenCloseOutput([...args, ...common()]);
    assert.ok(r.got.length > 0, `${args.join(" ")}: wrote something first`);
    assert.equal([r.code, r.signal], [0, null], `${args.join(" ")}: exit (stderr: ${r.stderr})`);
    assert.not.match(r.stderr, /EPIPE|Error|    at /, `${args.join(" ")}: quiet`);
  }
});

test.run();
