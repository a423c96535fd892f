// The dev loop of `jetbus up`: the config file against the live revision (applied on the embedded
// server, reported with the apply command on a deployment), and --watch reloading an edited actor
// module without losing or repeating an event that was in flight.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnJetbus, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const PUBLIC_API = fileURLToPath(new URL("../../runtime/mod.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "jetbus-dev-loop-"));
const started: JetbusProcess[] = [];
let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  for (const p of started) if (p.running()) p.child.kill("SIGKILL");
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function stop(p: JetbusProcess): Promise<void> {
  p.child.kill("SIGTERM");
  const { code } = await p.exited;
  assert.is(code, 0, p.output());
}

function up(label: string, args: string[]): JetbusProcess {
  const p = spawnJetbus(label, ["up", "--no-http", ...args], { JETBUS_LOG_LEVEL: "info" });
  started.push(p);
  return p;
}

const config = (rules: string[], extra: object = {}) => ({
  actors: [{ name: "sink", handler: "noop" }],
  routes: { rules: rules.map((name) => ({ name, match: { type: `${name}.*` }, to: ["sink"] })) },
  ...extra,
});

test("against a deployment, up reports how the file differs from the live revision and the command that applies it", async () => {
  const file = join(dir, "deploy.json");
  writeFileSync(file, JSON.stringify(config(["a"])));
  assert.is((await runJetbus(["config", "apply", file, "--servers", env.server.url])).code, 0);
  writeFileSync(file, JSON.stringify(config(["a", "b"])));
  const p = up("up-deploy", ["--config", file, "--servers", env.server.url]);
  await p.waitOutput(/jetbus is up/);
  assert.match(
    p.output(),
    /deploy\.json differs from live config revision \d+, which the routers keep using:\n {2}rules: \+ b\napply it with: jetbus config apply .*deploy\.json --servers nats:\/\/127\.0\.0\.1:\d+/,
  );
  await stop(p);
  const shown = await runJetbus(["config", "show", "--json", "--servers", env.server.url]);
  assert.equal(
    JSON.parse(shown.stdout).config.routes.rules.map((r: { name: string }) => r.name),
    ["a"],
    "the live revision is untouched",
  );
});

test("on the embedded server, up applies the edited file as a new revision before the router starts", async () => {
  const file = join(dir, "embedded.json");
  const embedded = { nats: { embedded: { store_dir: join(dir, "embedded-data"), port: 0 } } };
  writeFileSync(file, JSON.stringify(config(["a"], embedded)));
  const first = up("up-embedded-1", ["--config", file]);
  await first.waitOutput(/jetbus is up/);
  await stop(first);
  writeFileSync(file, JSON.stringify(config(["a", "b"], embedded)));
  const second = up("up-embedded-2", ["--config", file]);
  await second.waitOutput(/jetbus is up/);
  assert.match(second.output(), /applied .*embedded\.json as config revision \d+ \(the embedded server held revision \d+; rules: \+ b\)/);
  await stop(second);
});

test("up --watch reloads an edited actor module: the event in flight finishes on the old code, once; the next runs the new code", async () => {
  const log = join(dir, "handled.log");
  const release = join(dir, "release");
  const file = join(dir, "watch.json");
  const moduleFile = join(dir, "recorder.ts");
  const writeModule = (version: string) =>
    writeFileSync(
      moduleFile,
      [
        `import { appendFileSync, existsSync } from "node:fs";`,
        `import { defineActor } from ${JSON.stringify(PUBLIC_API)};`,
        `export default defineActor<{ slow?: boolean }>({`,
        `  async handle(event) {`,
        `    appendFileSync(${JSON.stringify(log)}, "${version} start " + event.id + "\\n");`,
        `    while (event.data.slow && !existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 20));`,
        `    appendFileSync(${JSON.stringify(log)}, "${version} end " + event.id + "\\n");`,
        `  },`,
        `});`,
      ].join("\n"),
    );
  // an ES module project, as `jetbus init` makes it
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeModule("v1");
  writeFileSync(
    file,
    JSON.stringify({
      actors: [{ name: "recorder", module: "./recorder.ts" }],
      routes: { rules: [{ name: "all", match: { type: "Rec.*" }, to: ["recorder"] }] },
    }),
  );
  // a deployment (this server): its live rules are what an operator applied
  assert.is((await runJetbus(["config", "apply", file, "--servers", env.server.url])).code, 0);
  const p = up("up-watch", ["--watch", "--config", file, "--servers", env.server.url]);
  await p.waitOutput(/jetbus is up/);
  const lines = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
  const pub = async (data: object) => {
    const r = await runJetbus(["pub", "Rec.x", JSON.stringify(data), "--servers", env.server.url]);
    assert.is(r.code, 0, r.stderr);
    return r.stdout.trim().split(" ")[0]!;
  };

  const slow = await pub({ slow: true });
  await waitFor(() => lines().includes(`v1 start ${slow}`), `v1 running the slow event (output: ${p.output()})`, 60_000);
  writeModule("v2");
  // the reload has loaded v2 and now waits for the slow handling: let it finish
  await p.waitOutput(/reloading: waiting for in-flight handlings/);
  assert.not.ok(lines().includes(`v1 end ${slow}`), "still in flight when the reload began");
  writeFileSync(release, "");
  await p.waitOutput(/reloaded actors/);
  const next = await pub({});
  await waitFor(
    () => lines().includes(`v2 end ${next}`),
    `v2 handled the next event (log: ${lines().join(" | ")}) (output: ${p.output()})`,
    60_000,
  );
  assert.equal(
    lines().filter((l) => l.includes(slow)),
    [`v1 start ${slow}`, `v1 end ${slow}`],
    "the in-flight event finished on v1, exactly once",
  );
  assert.equal(
    lines().filter((l) => l.includes(next)),
    [`v2 start ${next}`, `v2 end ${next}`],
  );
  await stop(p);
});

test.run();
