import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFrom, loadConfig, toMillis } from "../../runtime/config/mod.ts";
import { ConfigError, ConfigUnreadableError } from "../../runtime/errors.ts";

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError);
    return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected a ConfigError");
}

test("empty config gets every default", () => {
  const c = configFrom({});
  assert.is(c.store.stream, "EVENTS");
  assert.is(c.store.duplicate_window, "2m");
  assert.equal(c.nats.servers, []);
  assert.is(c.nats.embedded.store_dir, ".jetbus/data");
  assert.is(c.routes.mode, "all-matches");
  const withActor = configFrom({ actors: [{ name: "a" }] });
  assert.is(withActor.actors[0]!.retry.max_attempts, 5);
  assert.is(withActor.actors[0]!.idempotency.ttl, "24h");
});

test("every problem at once, each with its JSON path", () => {
  const problems = problemsOf(() =>
    configFrom({
      store: { replicas: 2, max_age: "forever", stram: "X" },
      actors: [{ name: "ok" }, { name: "Bad Name", retry: { max_attempts: 0 } }],
      routes: { rules: [{ to: [] }] },
    }),
  );
  assert.ok(problems.includes("store.replicas: must be one of 1, 3, 5"), problems.join("\n"));
  assert.ok(problems.some((p) => p.startsWith("store.max_age: must be a duration")), problems.join("\n"));
  assert.ok(problems.includes("store.stram: unknown key (not allowed here)"), problems.join("\n"));
  assert.ok(problems.includes("actors[1].retry.max_attempts: must be >= 1"), problems.join("\n"));
  assert.ok(problems.some((p) => p.startsWith("actors[1].name: must match pattern")), problems.join("\n"));
  assert.ok(problems.includes("routes.rules[0].to: must NOT have fewer than 1 items"), problems.join("\n"));
});

test("wrong types are named", () => {
  const problems = problemsOf(() => configFrom({ nats: { servers: "nats://x:4222" }, actors: {} }));
  assert.ok(problems.includes("nats.servers: must be array"), problems.join("\n"));
  assert.ok(problems.includes("actors: must be array"), problems.join("\n"));
});

test("semantic checks: duplicate actors and unknown route targets", () => {
  const problems = problemsOf(() => configFrom({ actors: [{ name: "a" }, { name: "a" }], routes: { rules: [{ match: { type: "X" }, to: ["a", "ghost"] }] } }));
  assert.ok(problems.includes('actors[1].name: duplicate actor name "a" (also actors[0])'), problems.join("\n"));
  assert.ok(problems.includes('routes.rules[0].to[1]: unknown actor "ghost" (not in actors[])'), problems.join("\n"));
});

test("invalid JSON is reported with line and column", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-config-"));
  const file = join(dir, "bad.json");
  writeFileSync(file, '{\n  "store": {\n    "stream": "EVENTS",\n  }\n}\n');
  const problems = problemsOf(() => loadConfig(file));
  assert.is(problems.length, 1);
  assert.match(problems[0]!, /^line 4, column 3: invalid JSON/);
});

test("a missing explicit file is an unreadable-config error", () => {
  try {
    loadConfig("/nonexistent/jetbus.json");
    assert.unreachable("should throw");
  } catch (e) {
    assert.instance(e, ConfigUnreadableError);
    assert.match((e as Error).message, /no such file/);
  }
});

test("durations", () => {
  assert.is(toMillis("250ms"), 250);
  assert.is(toMillis("2m"), 120_000);
  assert.is(toMillis("1d"), 86_400_000);
  assert.is(toMillis(15), 15);
});

test.run();
