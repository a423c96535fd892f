// The generated references (docs/reference/cli.md from the commander program and runtime/errors,
// docs/reference/config.md from the config's JSON Schemas) are what their generator writes now,
// and the examples the CLI reference shows are command lines the CLI accepts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { GENERATED, REGENERATE } from "../../bin/gen-docs.ts";
import { examplesOf } from "../../bin/docs/cli-reference.ts";
import { CONFIG_SCHEMA_FILES, renderConfigReference } from "../../bin/docs/config-reference.ts";
import { buildProgram } from "../../runtime/cli/program.ts";
import { ErrorCode } from "../../runtime/errors.ts";
import { REPO_ROOT } from "../helpers/cli.ts";
import { GENERATED_DOCS, jetbusUsageProblem, shellCommands } from "../helpers/doc-blocks.ts";

for (const g of GENERATED) {
  test(`${g.file} is what \`${REGENERATE}\` writes now`, () => {
    let committed = "";
    try {
      committed = readFileSync(join(REPO_ROOT, g.file), "utf8");
    } catch {
      assert.unreachable(`${g.file} is missing: run \`${REGENERATE}\` and commit it`);
    }
    assert.fixture(committed, g.render(), `${g.file} is out of date: run \`${REGENERATE}\` and commit the result`);
  });
}

test("the code-block check exempts exactly the generated files", () => {
  assert.equal([...GENERATED_DOCS].sort(), GENERATED.map((g) => g.file.split("\\").join("/")).sort());
});

test("the CLI reference lists every command, every error code and every exit code", () => {
  const cli = readFileSync(join(REPO_ROOT, "docs", "reference", "cli.md"), "utf8");
  const paths = (cmd: Command, prefix: string): string[] =>
    cmd.commands.flatMap((c) => [`${prefix} ${c.name()}`, ...paths(c, `${prefix} ${c.name()}`)]);
  for (const p of paths(buildProgram(), "jetbus")) assert.ok(cli.includes(`\n### ${p}\n`), `a section for ${p}`);
  for (const code of Object.values(ErrorCode)) assert.match(cli, new RegExp(`\\| \`${code}\` \\| \`[12]\` \\|`), `a row for ${code}`);
  assert.match(cli, /\| `0` \| Done as asked\. \|/);
  // an option's default is shown from commander, e.g. `demo --timeout 60s`
  assert.match(cli, /\| `--timeout <duration>` \| how long to wait for the actors .* \| `60s` \|/);
});

test("every example in the CLI's help (and so in the reference) is a command line the CLI accepts", () => {
  const program = buildProgram();
  const all = (cmd: Command): Command[] => cmd.commands.flatMap((c) => [c, ...all(c)]);
  const problems: string[] = [];
  let count = 0;
  for (const cmd of all(program)) {
    for (const words of examplesOf(cmd).flatMap(shellCommands)) {
      assert.is(words[0], "jetbus", `an example runs jetbus: ${words.join(" ")}`);
      count++;
      const problem = jetbusUsageProblem(buildProgram(), words.slice(1));
      if (problem) problems.push(problem);
    }
  }
  assert.ok(count > 40, `found the examples (${count})`);
  assert.equal(problems, []);
  // and the check can fail
  assert.match(jetbusUsageProblem(buildProgram(), ["history", "--typo", "x"]) ?? "", /unknown option --typo/);
  assert.match(jetbusUsageProblem(buildProgram(), ["pub", "A"]) ?? "", /2 argument\(s\) needed, 1 given/);
  assert.match(jetbusUsageProblem(buildProgram(), ["dlq", "relay"]) ?? "", /"relay" is no subcommand of "dlq"/);
  assert.match(jetbusUsageProblem(buildProgram(), ["new", "actor", "x"]) ?? "", /--type <type> is required/);
  assert.match(jetbusUsageProblem(buildProgram(), ["history", "--type"]) ?? "", /argument missing/);
});

test("a config key without a description stops the config reference (every key is documented)", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-config-ref-"));
  try {
    for (const f of CONFIG_SCHEMA_FILES) copyFileSync(join(REPO_ROOT, "schemas", f), join(dir, f));
    const actor = JSON.parse(readFileSync(join(dir, "actor.schema.json"), "utf8"));
    actor.properties.priority = { type: "integer", minimum: 0, default: 0 };
    writeFileSync(join(dir, "actor.schema.json"), JSON.stringify(actor));
    assert.throws(() => renderConfigReference(dir), /actor\.schema\.json: the key actors\[\]\.priority has no "description"/);
    actor.properties.priority.description = "Higher first";
    writeFileSync(join(dir, "actor.schema.json"), JSON.stringify(actor));
    assert.match(renderConfigReference(dir), /\| `actors\[\]\.priority` \| integer \| `0` \| at least 0 \| Higher first \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
