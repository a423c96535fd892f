import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runJetbus } from "../helpers/cli.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/actor-modules/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "jetbus-config-modules-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("config validate loads every actor module: a missing one and one without a handler export fail with their JSON paths (exit 2)", async () => {
  const file = join(dir, "bad.json");
  writeFileSync(
    file,
    JSON.stringify({
      actors: [
        { name: "good", module: join(FIXTURES, "define-actor.ts") },
        { name: "ghost", module: "./actors/ghost.ts" },
        { name: "bare", module: join(FIXTURES, "no-default.ts") },
      ],
    }),
  );
  const r = await runJetbus(["config", "validate", file]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /error \[CONFIG_INVALID\]: invalid config .*bad\.json \(2 problems\)/);
  assert.match(
    r.stderr,
    new RegExp(`actors\\[1\\]\\.module: module ${join(dir, "actors/ghost.ts").replace(/\//g, "\\/")} does not exist`),
    "relative to the config file",
  );
  assert.match(r.stderr, /actors\[2\]\.module: module .*no-default\.ts has no default export/);
});

test("config validate accepts a config whose modules all export handlers", async () => {
  const file = join(dir, "good.json");
  writeFileSync(
    file,
    JSON.stringify({
      actors: [
        { name: "good", module: join(FIXTURES, "define-actor.ts") },
        { name: "js", module: join(FIXTURES, "class-handler.js") },
      ],
    }),
  );
  const r = await runJetbus(["config", "validate", file]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /good\.json: valid \(2 actors, 0 rules\)/);
});

test.run();
