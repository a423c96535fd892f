// The one-machine cluster of docs/guides/cluster.md from the installed package: the tarball installed in an empty
// project, `npx jetbus init`, the project's own actor modules (relative `module` paths), and
// `npx jetbus cluster up --detach` running them as processes on a 3-node cluster; then an actor
// whose module fails at start-up, which `cluster up` must report by name (exit 1) and clean up.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alive, type LocalClusterState } from "../../runtime/cluster/local.ts";
import { packedTarball, quietEnv } from "../helpers/package.ts";
import { bindable, freePortBase } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";

const work = mkdtempSync(join(tmpdir(), "jetbus-package-cluster-"));
const app = join(work, "app");
const handled = join(work, "handled.log");
const quiet = quietEnv();
let portBase = 0;

function npx(args: readonly string[], extraEnv: Record<string, string> = {}, timeout = 300_000): SpawnSyncReturns<string> {
  return spawnSync("npx", ["--no-install", "jetbus", ...args], { cwd: app, env: { ...quiet, ...extraEnv }, encoding: "utf8", timeout });
}

/** The installed bin without npx's own start-up (what npx runs): for the repeated one-shot commands. */
function jetbus(args: readonly string[], extraEnv: Record<string, string>): SpawnSyncReturns<string> {
  const bin = join(app, "node_modules", "jetbus", "bin", "jetbus.js");
  return spawnSync(process.execPath, [bin, ...args], { cwd: app, env: { ...quiet, ...extraEnv }, encoding: "utf8", timeout: 120_000 });
}

const started = Date.now();
const mark = (what: string) => console.log(`  ${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);

test.before(async () => {
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "cluster-app", version: "1.0.0", private: true }, null, 2));
  const install = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", await packedTarball()], {
    cwd: app,
    env: quiet,
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.is(install.status, 0, install.stdout + install.stderr);
  const init = npx(["init"]);
  assert.is(init.status, 0, init.stdout + init.stderr);

  // the project's own actors: one that records what it handled (and in which process), one that
  // cannot start (its module throws while loading)
  writeFileSync(
    join(app, "schemas", "events", "ItemCounted.json"),
    JSON.stringify({ type: "object", required: ["n"], properties: { n: { type: "integer" } } }),
  );
  writeFileSync(
    join(app, "actors", "counter.ts"),
    [
      `import { appendFileSync } from "node:fs";`,
      `import { defineActor } from "jetbus";`,
      `import type { ItemCounted } from "../types/events.js";`,
      ``,
      `export default defineActor<ItemCounted>({`,
      `  async handle(event, ctx) {`,
      `    appendFileSync(String(ctx.options.log), \`\${event.data.n} \${process.pid}\\n\`);`,
      `  },`,
      `});`,
    ].join("\n"),
  );
  writeFileSync(
    join(app, "actors", "broken.ts"),
    [
      `import { defineActor } from "jetbus";`,
      `throw new Error("broken.ts cannot start");`,
      `export default defineActor({ handle() {} });`,
    ].join("\n"),
  );
  const config = JSON.parse(readFileSync(join(app, "jetbus.config.json"), "utf8"));
  config.actors.push(
    { name: "counter", module: "./actors/counter.ts", options: { log: handled } },
    { name: "broken", module: "./actors/broken.ts" },
  );
  config.routes.rules.push(
    { name: "count", match: { type: "ItemCounted" }, to: ["counter"] },
    { name: "break", match: { type: "Breaking" }, to: ["broken"] },
  );
  writeFileSync(join(app, "jetbus.config.json"), JSON.stringify(config, null, 2));
  // docs/guides/cluster.md: the same config with a 3-replica store
  writeFileSync(join(app, "jetbus.cluster.json"), JSON.stringify({ ...config, store: { replicas: 3 } }, null, 2));
  portBase = await freePortBase();
  mark("packed, installed, init");
});

test.after(() => {
  // whatever a failed assertion left running: `cluster down` stops it by the pids it recorded
  npx(["cluster", "down", "--purge"]);
  rmSync(work, { recursive: true, force: true });
});

/** The cluster guide's `npx jetbus cluster up` on this test's ports, detached, with the R3 copy of the project's config. */
const clusterUp = (...args: string[]) =>
  npx(["cluster", "up", "--config", "jetbus.cluster.json", "--port-base", String(portBase), "--detach", ...args]);

test("npx jetbus cluster up --detach runs the project's own module actors on 3 nodes, as each role's user", async () => {
  try {
    await clusterWithOwnActors();
  } finally {
    // a failed assertion must not leave this cluster running into the next test
    npx(["cluster", "down", "--purge"]);
  }
});

async function clusterWithOwnActors(): Promise<void> {
  const up = clusterUp("--routers", "1", "--actors", "counter:2,welcome");
  const upOut = up.stdout + up.stderr;
  assert.is(up.status, 0, upOut);
  for (const name of ["router-1", "counter-1", "counter-2", "welcome-1"])
    assert.match(up.stdout, new RegExp(`^started ${name} pid \\d+, ready \\(http :\\d+, log `, "m"), upOut);
  const state = JSON.parse(readFileSync(join(app, ".jetbus", "cluster", "state.json"), "utf8")) as LocalClusterState;
  assert.is(state.nodes.length, 3);
  assert.is(state.processes.length, 4);
  for (const p of state.processes) assert.ok(alive(p.pid), `${p.name} runs`);
  assert.not.ok(existsSync(join(app, ".jetbus", "cluster", "config-jetbus-router.json")), "no copy of the config holding a password");

  const passwords = Object.fromEntries(
    readFileSync(state.passwordsFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split("=") as [string, string]),
  );
  const publisher = { NATS_URL: state.natsUrl, NATS_USER: "jetbus-publisher", NATS_PASSWORD: passwords.JETBUS_PASS_PUBLISHER! };
  mark("cluster up with 4 processes");
  for (let n = 1; n <= 4; n++) {
    const pub = jetbus(
      ["pub", "ItemCounted", JSON.stringify({ n }), "--correlation-id", "c1", "--config", "jetbus.cluster.json"],
      publisher,
    );
    assert.is(pub.status, 0, pub.stdout + pub.stderr);
  }
  await waitFor(
    () => existsSync(handled) && readFileSync(handled, "utf8").trim().split("\n").length >= 4,
    "the counter actor processes handled the four events",
    120_000,
  );
  const lines = readFileSync(handled, "utf8").trim().split("\n");
  assert.equal(lines.map((l) => Number(l.split(" ")[0])).sort(), [1, 2, 3, 4]);
  const counters = new Set(state.processes.filter((p) => p.name.startsWith("counter-")).map((p) => p.pid));
  for (const l of lines) assert.ok(counters.has(Number(l.split(" ")[1])), `handled in a counter process: ${l}`);

  // the guide's next steps, as the admin: status lists the actors' replicas, history finds the events by correlation
  const admin = { NATS_URL: state.natsUrl, NATS_USER: "jetbus-admin", NATS_PASSWORD: passwords.JETBUS_PASS_ADMIN! };
  mark("handled");
  const status = jetbus(["status", "--config", "jetbus.cluster.json", "--json"], admin);
  assert.is(status.status, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /"counter"/, status.stdout);
  let last = "";
  await waitFor(
    () => {
      const h = jetbus(["history", "--correlation-id", "c1", "--config", "jetbus.cluster.json", "--json"], admin);
      last = h.stdout + h.stderr;
      return (
        h.status === 0 &&
        h.stdout
          .trim()
          .split("\n")
          .filter((l) => l.includes('"ItemCounted"')).length === 4
      );
    },
    "history --correlation-id c1 lists the four events (the router's indexer)",
    120_000,
  ).catch((err: Error) => assert.unreachable(`${err.message}; last answer:\n${last}`));

  mark("status and history");
  const down = npx(["cluster", "down", "--purge"]);
  assert.is(down.status, 0, down.stdout + down.stderr);
  assert.match(down.stdout, /^stopped 7 processes/m);
  for (const p of [...state.processes, ...state.nodes]) assert.not.ok(alive(p.pid), `${p.name} stopped`);
}

test("an actor process that dies during start-up fails `cluster up` (exit 1) naming it, and nothing is left running", async () => {
  const up = clusterUp("--actors", "counter,broken");
  const out = up.stdout + up.stderr;
  assert.is(up.status, 1, out);
  assert.match(up.stderr, /^error \[PROCESS_FAILED\]: broken-1 \(pid \d+\) exited with code 2 during start-up; log .*broken-1\.log/m, out);
  assert.match(up.stderr, /broken\.ts cannot start/, "the dead process's own error, from its log");
  assert.not.match(up.stderr, /counter-1/, "the actor that started is not named");
  assert.match(up.stderr, /^hint: `cluster up` stopped the nodes and processes it had started/m);
  assert.not.match(up.stdout, /^started /m, out);
  assert.not.ok(existsSync(join(app, ".jetbus", "cluster", "state.json")), "no cluster left recorded");
  for (const port of [portBase, portBase + 1, portBase + 2]) assert.ok(await bindable(port), `no node left on ${port}`);
});

test.run();
