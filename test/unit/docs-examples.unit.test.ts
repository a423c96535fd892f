// The docs' code blocks that need no NATS server, run from the docs' own text (docBlock, see
// test/helpers/doc-blocks.ts): TypeScript blocks through tsc --strict against the package's types,
// the routing example through the config validator and the router's dry run, every shell block's
// commands checked against the CLI, package.json and bench/scenarios/, and the checkout blocks'
// `npx jetbus` commands run. What no test runs is reported on every run with the reason: `npm ci`
// and `npm test` cannot run inside the suite (CI runs them: .ci/run); the one-machine cluster binds
// the fixed ports 4222-4224 that parallel tests on a shared machine cannot promise
// (test/e2e/package-cluster.e2e.test.ts runs its steps on free ports, from the installed package);
// a benchmark takes minutes of both cores, and its figures belong in docs/benchmarks.md, not a test.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildProgram } from "../../runtime/cli/program.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { dryRun, eventForDryRun } from "../../runtime/routing/dry-run.ts";
import { REPO_ROOT, runJetbus } from "../helpers/cli.ts";
import { allDocBlocks, docBlock, jetbusUsageProblem, jsonFragment, shellCommands } from "../helpers/doc-blocks.ts";

test("the TypeScript blocks type-check under --strict against the package's types (and a wrong one does not)", () => {
  mkdirSync(join(REPO_ROOT, ".jetbus"), { recursive: true });
  // inside the repository, so that "jetbus" (mapped to runtime/mod.ts) and its dependencies resolve as in a project
  const dir = mkdtempSync(join(REPO_ROOT, ".jetbus", "docs-ts-"));
  try {
    const files: Record<string, string> = {
      "store-api.ts": `${docBlock("store-api")}\n`,
      "embedding.ts": `${docBlock("embedding")}\n`,
      "stateful-actor.ts": `${docBlock("stateful-actor")}\n`,
      "wrong.ts": `import { defineActor } from "jetbus";\nexport default defineActor<{ n: number }>({ async handle(event) { event.data.n.toUpperCase(); } });\n`,
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          experimentalDecorators: true,
          allowImportingTsExtensions: true,
          esModuleInterop: true,
          resolveJsonModule: true,
          skipLibCheck: true,
          noEmit: true,
          types: ["node"],
          paths: { jetbus: ["../../runtime/mod.ts"] },
        },
        files: Object.keys(files),
      }),
    );
    const tsc = spawnSync(process.execPath, [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], {
      cwd: dir,
      encoding: "utf8",
      timeout: 300_000,
    });
    const errors = tsc.stdout.split("\n").filter((l) => /error TS\d+/.test(l));
    assert.equal(
      errors.filter((l) => !l.startsWith("wrong.ts")),
      [],
      `the docs' TypeScript does not compile:\n${tsc.stdout}${tsc.stderr}`,
    );
    assert.equal(errors.length, 1, tsc.stdout);
    assert.match(errors[0]!, /^wrong\.ts\(2,\d+\): error TS2339: Property 'toUpperCase' does not exist on type 'number'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the routing example validates as a config and routes as the Routing section says", () => {
  const doc = jsonFragment(docBlock("routing-rules")) as { routes: { rules: Array<{ to: string[] }> } };
  const actors = [...new Set(doc.routes.rules.flatMap((r) => r.to))].map((name) => ({ name, handler: "noop" }));
  const config = configFrom({ ...doc, actors }, "README routing example");
  const route = (event: unknown) => dryRun(config, eventForDryRun(event)).copies.map((c) => ({ actor: c.actor, data: c.data }));

  // a big order in EUR: to fraud-check, with only the picked paths and the constant set
  assert.equal(route({ type: "OrderPlaced", data: { order_id: "o-1", total: 250, currency: "EUR", note: "gift" } }), [
    { actor: "fraud-check", data: { order_id: "o-1", total: 250, tier: "gold" } },
  ]);
  assert.equal(route({ type: "OrderPlaced", data: { order_id: "o-2", total: 99, currency: "EUR" } }), [], "under 100: no rule");
  assert.equal(route({ type: "OrderPlaced", data: { order_id: "o-3", total: 250, currency: "GBP" } }), [], "another currency: no rule");
  // User.> from user-service: to both targets, data unchanged
  assert.equal(route({ type: "User.Created", source: "user-service", data: { user_id: "u1" } }), [
    { actor: "user-handler-1", data: { user_id: "u1" } },
    { actor: "email-handler", data: { user_id: "u1" } },
  ]);
  assert.equal(route({ type: "User.Created", source: "shell", data: { user_id: "u1" } }), [], "another source: no rule");
});

/** Programs a shell block may run that this test does not check: shell built-ins, and the nats CLI (run by test/e2e/nats-cli-compat). */
const NOT_CHECKED = new Set(["set", "export", ".", "cd", "mkdir", "cp", "kill", "nats"]);
const NPM_BUILTIN = new Set(["ci", "i", "install", "init"]);

/** What is wrong with one command of a shell block; `vars` holds the block's own `NAME=value` assignments. */
function commandProblem(words: readonly string[], vars: Map<string, string>, scripts: Record<string, string>): string | undefined {
  const expanded = words.flatMap((w) => (/^\$[A-Za-z_]\w*$/.test(w) && vars.has(w.slice(1)) ? vars.get(w.slice(1))!.split(/\s+/) : [w]));
  // leading VAR=value words set the environment of this one command
  let i = 0;
  while (i < expanded.length && /^[A-Za-z_]\w*=/.test(expanded[i]!)) i++;
  const argv = expanded.slice(i);
  if (argv.length === 0) {
    for (const w of expanded) vars.set(w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1));
    return undefined;
  }
  const [program, ...args] = argv as [string, ...string[]];
  const line = argv.join(" ");
  const cli = (jetbusArgs: readonly string[]) => {
    const problem = jetbusUsageProblem(buildProgram(), jetbusArgs);
    if (problem) return problem;
    const c = jetbusArgs.findIndex((a) => a === "--config" || a === "-c");
    if (c >= 0 && jetbusArgs[c + 1]?.startsWith("deploy/") && !existsSync(join(REPO_ROOT, jetbusArgs[c + 1]!)))
      return `${line}: ${jetbusArgs[c + 1]} does not exist`;
    return undefined;
  };
  if (program === "jetbus") return cli(args);
  if (program === "npx" && args[0] === "jetbus") return cli(args.slice(1));
  if (program === "deploy/local-cluster") {
    const script = join(REPO_ROOT, program);
    if (!existsSync(script) || !/exec node bin\/jetbus\.js cluster "\$@"/.test(readFileSync(script, "utf8")))
      return `${line}: ${program} is not \`jetbus cluster\``;
    return cli(["cluster", ...args]);
  }
  if (program === "npm") {
    const [sub, name] = args;
    if (NPM_BUILTIN.has(sub!)) return undefined;
    const script = sub === "run" ? name : sub;
    if (!script || !scripts[script]) return `${line}: package.json has no script "${script}"`;
    // `npm run bench -- NAME ...`: NAME is a scenario of bench/run.ts (a file of bench/scenarios/)
    const scenario = script === "bench" ? args[args.indexOf("--") + 1] : undefined;
    if (scenario !== undefined && !existsSync(join(REPO_ROOT, "bench", "scenarios", `${scenario}.ts`)))
      return `${line}: bench/scenarios/ has no scenario "${scenario}"`;
    return undefined;
  }
  return NOT_CHECKED.has(program)
    ? undefined
    : `${line}: no check for "${program}" (teach test/unit/docs-examples.unit.test.ts, or run the block in a test)`;
}

test("every command of every shell block names a CLI command, its options and arguments, an npm script, or a file that exist", () => {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  // the blocks no test runs whole (see the top of the file), read by name so their markers point
  // here; reported on every run with the reason, so that none is accepted silently
  const checkedOnly = [
    {
      name: "cluster-on-one-machine",
      text: docBlock("cluster-on-one-machine"),
      why: "binds the fixed ports 4222-4224; test/e2e/package-cluster.e2e.test.ts runs its steps on free ports",
    },
    { name: "bench-peers", text: docBlock("bench-peers"), why: "a benchmark (minutes of both cores)" },
    { name: "bench-memory", text: docBlock("bench-memory"), why: "a benchmark (minutes of both cores)" },
    { name: "bench-api-calls", text: docBlock("bench-api-calls"), why: "a benchmark" },
    {
      name: "bench-pipeline-stateful-latency",
      text: docBlock("bench-pipeline-stateful-latency"),
      why: "a benchmark (minutes of both cores)",
    },
    { name: "bench-aggregate-notify", text: docBlock("bench-aggregate-notify"), why: "a benchmark (minutes of both cores)" },
  ];
  const shell = allDocBlocks().filter((b) => ["sh", "bash", "shell"].includes(b.lang));
  for (const { name, text, why } of checkedOnly) {
    const b = shell.find((x) => x.text === text);
    assert.ok(b, `${name} is a shell block`);
    console.log(`  checked, not run: ${b.file}:${b.line} ${name}: ${why}`);
  }
  const problems: string[] = [];
  let checked = 0;
  for (const b of shell) {
    const vars = new Map<string, string>();
    for (const words of shellCommands(b.text)) {
      const problem = commandProblem(words, vars, scripts);
      if (problem) problems.push(`${b.file}:${b.line}: ${problem}`);
      else checked++;
    }
  }
  assert.equal(problems, []);
  assert.ok(checked > 30, `checked the commands (${checked})`);
  // and it can fail
  const none = new Map<string, string>();
  assert.match(commandProblem(["npx", "jetbus", "history", "--tpye", "A"], none, scripts) ?? "", /unknown option --tpye/);
  assert.match(commandProblem(["npm", "run", "gen:dosc"], none, scripts) ?? "", /no script "gen:dosc"/);
  assert.match(commandProblem(["npm", "run", "bench", "--", "peer", "100"], none, scripts) ?? "", /no scenario "peer"/);
  assert.is(commandProblem(["npm", "run", "bench", "--", "peers", "100"], none, scripts), undefined);
  assert.match(
    commandProblem(["jetbus", "up", "--config", "deploy/nowhere.json"], none, scripts) ?? "",
    /deploy\/nowhere\.json does not exist/,
  );
  assert.match(commandProblem(["curl", "localhost"], none, scripts) ?? "", /no check for "curl"/);
  const vars = new Map<string, string>();
  assert.is(commandProblem(["C=--config deploy/jetbus.cluster.json"], vars, scripts), undefined);
  assert.match(commandProblem(["jetbus", "status", "$C", "--wacth"], vars, scripts) ?? "", /unknown option --wacth/);
});

test("the checkout blocks: each `npx jetbus` command runs as written, the others are the scripts and CI steps the tests and CI run", async () => {
  const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const ci = readFileSync(join(REPO_ROOT, ".ci", "run"), "utf8");
  const commands = [docBlock("install-from-checkout"), docBlock("run-from-checkout"), docBlock("test-command")].flatMap(shellCommands);
  let ran = 0;
  for (const argv of commands) {
    const line = argv.join(" ");
    if (argv[0] === "npx" && argv[1] === "jetbus" && argv[2] !== "up") {
      const r = await runJetbus(argv.slice(2));
      assert.is(r.code, 0, `${line}: exit ${r.code}\n${r.stderr}`);
      assert.ok(r.stdout.trim().length > 0, `${line} printed nothing`);
      ran++;
    } else if (line === "npx jetbus up") {
      console.log(`  run elsewhere: ${line} (test/e2e/package.e2e.test.ts runs the README's first-actor-run block)`);
    } else if (line === "npm start") {
      assert.is(scripts.start, "node bin/jetbus.js demo", "npm start is the demo");
      console.log(`  run elsewhere: ${line} = jetbus demo (test/e2e/demo.e2e.test.ts compares its output with the README's)`);
    } else if (line === "npm ci" || line === "npm test") {
      // the suite cannot install itself or run itself; CI does both on a clean clone
      assert.match(ci, new RegExp(`^${line}\\b`, "m"), `.ci/run runs ${line}`);
      console.log(`  run by CI: ${line} (.ci/run)`);
    } else {
      assert.unreachable(`${line}: a checkout block's command this test neither runs nor knows to be run elsewhere`);
    }
  }
  assert.ok(ran >= 2, `ran npx jetbus server and --help (${ran})`);
});

test("the event-sourcing, projection and notification pages show the bank-account example as it is, and configs that validate", () => {
  const example = (f: string) => readFileSync(join(REPO_ROOT, "examples", "bank-account", f), "utf8").trimEnd();
  assert.fixture(docBlock("bank-account-aggregate"), example("bank-account.ts"));
  assert.fixture(docBlock("balances-projection"), example("balances.ts"));
  const config = JSON.parse(example("jetbus.config.json")) as Record<string, unknown>;
  const aggregates = jsonFragment(docBlock("bank-account-config")) as Record<string, unknown>;
  assert.equal(aggregates, { aggregates: config.aggregates, upcasters: config.upcasters });
  assert.equal(jsonFragment(docBlock("projections-config")), { projections: config.projections });
  const notifications = jsonFragment(docBlock("notifications-config")) as { notifications: { types: string[] } };
  const checked = configFrom(notifications, "docs notifications example");
  assert.equal(checked.notifications.types, notifications.notifications.types);
});

test.run();
