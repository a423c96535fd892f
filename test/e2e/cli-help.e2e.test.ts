// Every jetbus subcommand has --help naming its key flags, and errors follow the exit-code
// contract (0 ok, 1 not found or failed, 2 bad input or config; one line plus a hint, a stack
// only with --debug). Help is rendered in-process from the real command tree (a tsx spawn per
// command would cost seconds each); a few real spawns check the wiring of bin/jetbus.js.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram } from "../../runtime/cli/program.ts";
import { startServer } from "../helpers/nats.ts";
import { runJetbus } from "../helpers/cli.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { ensureStore } from "../../runtime/store/mod.ts";

const COMMON = ["--servers", "--config", "--json", "--debug"];

/** Each subcommand path and the flags its help must mention. A new subcommand must be added here (checked below). */
const HELP: ReadonlyArray<readonly [path: string, flags: readonly string[]]> = [
  ["demo", [...COMMON, "--timeout"]],
  ["up", [...COMMON, "--no-http", "--watch"]],
  ["init", ["[dir]", "--json"]],
  ["new", ["actor"]],
  ["new actor", ["<name>", "--type <type>", "--config <file>"]],
  ["types", ["[dir]", "--json"]],
  ["actor", [...COMMON, "--replicas", "--grace"]],
  ["router", [...COMMON, "--replicas", "--max-in-flight", "--ack-wait"]],
  ["pub", [...COMMON, "--id", "--source", "--correlation-id", "--causation-id", "--notify"]],
  ["get", COMMON],
  ["history", [...COMMON, "--type", "--correlation-id", "--since", "--until", "--from", "--limit"]],
  ["trace", COMMON],
  ["aggregate", ["show"]],
  ["aggregate show", [...COMMON, "<type>", "<id>", "--at", "--seq", "--entity-version"]],
  ["status", [...COMMON, "--watch"]],
  ["dlq", ["list", "replay"]],
  ["dlq list", [...COMMON, "--actor", "--limit"]],
  ["dlq replay", [...COMMON, "--actor"]],
  ["replay", [...COMMON, "--from", "--to", "--all", "--run-id"]],
  ["config", ["validate", "apply", "show", "history", "rollback"]],
  ["config validate", COMMON],
  ["config apply", COMMON],
  ["config show", [...COMMON, "--revision"]],
  ["config history", COMMON],
  ["config rollback", COMMON],
  ["route", ["test"]],
  ["route test", COMMON],
  ["index", ["rebuild", "status"]],
  ["index rebuild", COMMON],
  ["index status", COMMON],
  ["store", ["apply"]],
  ["store apply", [...COMMON, "--yes", "--allow-data-loss"]],
  ["cluster", ["up", "down", "restart", "durability", "accounts"]],
  ["cluster restart", ["--dir"]],
  ["cluster up", ["--config", "--dir", "--port-base", "--actors", "--json"]],
  ["cluster down", ["--dir", "--purge"]],
  ["cluster durability", COMMON],
  ["cluster accounts", ["--config"]],
  ["check", [...COMMON, "--acked", "--seen", "--store", "--read-store"]],
  ["server", []],
  ["quarantine", ["list", "show", "replay"]],
  ["quarantine list", [...COMMON, "--type", "--since", "--until", "--limit"]],
  ["quarantine show", COMMON],
  ["quarantine replay", [...COMMON, "--type", "--since", "--until", "--all", "--force"]],
  ["unrouted", ["list", "replay"]],
  ["unrouted list", [...COMMON, "--type", "--since", "--until", "--limit"]],
  ["unrouted replay", [...COMMON, "--type", "--since", "--until", "--all"]],
  ["console", [...COMMON, "--port", "--host"]],
  ["state", ["get", "list", "history"]],
  ["state get", COMMON],
  ["state list", COMMON],
  ["state history", COMMON],
  ["projection", ["run", "rebuild", "get", "list", "status"]],
  ["projection run", [...COMMON, "[names...]", "--no-http"]],
  ["projection rebuild", [...COMMON, "<name>"]],
  ["projection get", [...COMMON, "<name>", "<key>", "--model-version"]],
  ["projection list", [...COMMON, "<name>", "--model-version"]],
  ["projection status", [...COMMON, "[names...]"]],
];

function find(program: Command, path: string): Command | undefined {
  let cmd: Command | undefined = program;
  for (const name of path.split(" ")) cmd = cmd?.commands.find((c) => c.name() === name);
  return cmd;
}

function allPaths(cmd: Command, prefix = ""): string[] {
  return cmd.commands.flatMap((c) => {
    const path = prefix ? `${prefix} ${c.name()}` : c.name();
    return [path, ...allPaths(c, path)];
  });
}

test("every subcommand renders help with a description and its key flags", () => {
  const program = buildProgram();
  for (const [path, flags] of HELP) {
    const cmd = find(program, path);
    assert.ok(cmd, `jetbus ${path} is registered`);
    const help = cmd!.helpInformation();
    assert.match(help, `Usage: jetbus ${path}`, `usage line of ${path}`);
    assert.ok(cmd!.description().length > 10, `jetbus ${path} has a description`);
    for (const f of flags) assert.ok(help.includes(f), `help of "jetbus ${path}" mentions ${f}:\n${help}`);
  }
});

test("help is uniform: every runnable command shows an example; router takes -r like actor; demo --timeout is a duration", () => {
  const program = buildProgram();
  const leaves = allPaths(program).filter((p) => !p.endsWith(" help") && find(program, p)!.commands.length === 0);
  for (const path of leaves) {
    const cmd = find(program, path)!;
    let text = "";
    cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    cmd.outputHelp();
    assert.match(text, /\nExamples?:\n  jetbus /, `jetbus ${path} --help shows an example:\n${text}`);
  }
  assert.match(find(program, "router")!.helpInformation(), /-r, --replicas/);
  assert.match(find(program, "demo")!.helpInformation(), /--timeout <duration>/);
});

test("the table above covers every registered command, demo included", () => {
  const registered = allPaths(buildProgram())
    .filter((p) => !p.endsWith(" help"))
    .sort();
  assert.equal(registered, HELP.map(([p]) => p).sort());
});

test("bin/jetbus.js --help and a nested subcommand's --help exit 0 and list what they should", async () => {
  const [top, nested] = await Promise.all([runJetbus(["--help"]), runJetbus(["dlq", "replay", "--help"])]);
  assert.is(top.code, 0, top.stderr);
  for (const name of [
    "demo",
    "up",
    "actor",
    "router",
    "pub",
    "get",
    "history",
    "trace",
    "status",
    "dlq",
    "replay",
    "config",
    "route",
    "index",
    "cluster",
    "check",
  ]) {
    assert.match(top.stdout, new RegExp(`^  ${name}\\b`, "m"), `top-level help lists ${name}`);
  }
  assert.is(nested.code, 0, nested.stderr);
  assert.match(nested.stdout, /Usage: jetbus dlq replay/);
  assert.match(nested.stdout, /--actor/);
});

const STACK_LINE = /^\s+at /m;

test("exit codes: bad config and bad input 2, unknown id 1; one error line plus a hint; a stack only with --debug", async () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-help-e2e-"));
  const env = await startServer();
  try {
    const bad = join(dir, "broken.json");
    writeFileSync(bad, JSON.stringify({ bogus: 1, store: { replicas: 2 } }));
    const url = env.server.url;
    // one-shot commands use a store, never create it (`store apply`, `up` and `router` do)
    await ensureStore(await jetstreamManager(env.nc), configFrom({}).store);
    const [config, json, flag, missing, missingDebug] = await Promise.all([
      runJetbus(["config", "validate", bad]),
      runJetbus(["pub", "UserCreated", "{not json", "--servers", url]),
      runJetbus(["get", "--no-such-flag"]),
      runJetbus(["get", "no-such-event", "--servers", url]),
      runJetbus(["get", "no-such-event", "--servers", url, "--debug"]),
    ]);

    assert.is(config.code, 2, config.stderr);
    assert.match(config.stderr, /^error \[CONFIG_INVALID\]: invalid config .*broken\.json/);
    assert.match(config.stderr, /bogus: unknown key/);
    assert.match(config.stderr, /store\.replicas/);
    assert.match(config.stderr, /^hint: /m);
    assert.not.match(config.stderr, STACK_LINE);

    assert.is(json.code, 2, json.stderr);
    assert.match(json.stderr, /^error \[USAGE\]: event data is not valid JSON/);
    assert.not.match(json.stderr, STACK_LINE);

    assert.is(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /unknown option '--no-such-flag'/);

    assert.is(missing.code, 1, missing.stderr);
    const lines = missing.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, `one error line and one hint:\n${missing.stderr}`);
    assert.is(lines[0], "error [NOT_FOUND]: event no-such-event not found in EVENTS, JETBUS_QUARANTINE or JETBUS_UNROUTED");
    assert.match(lines[1]!, /^hint: /);
    assert.is(missing.stdout, "");

    assert.is(missingDebug.code, 1, missingDebug.stderr);
    assert.match(missingDebug.stderr, /^error \[NOT_FOUND\]/);
    assert.match(missingDebug.stderr, STACK_LINE, "--debug adds the stack");
  } finally {
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
