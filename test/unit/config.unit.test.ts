import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configFrom, loadConfig } from "../../runtime/config/load.ts";
import { ConfigError, ConfigUnreadableError } from "../../runtime/errors.ts";
import { DEFAULT_PARTITIONS } from "../../runtime/actor/state/ordering-default.ts";

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
  assert.is(c.store.duplicate_window, 120_000, "the default 2m, in milliseconds");
  assert.equal(c.nats.servers, []);
  assert.is(c.nats.embedded.store_dir, ".jetbus/data");
  assert.is(c.routes.mode, "all-matches");
  const withActor = configFrom({ actors: [{ name: "a" }] });
  assert.is(withActor.actors[0]!.retry.max_attempts, 5);
  assert.is(withActor.actors[0]!.idempotency.ttl, 86_400_000, "the default 24h, in milliseconds");
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
  assert.ok(
    problems.some((p) => p.startsWith("store.max_age: must be a duration")),
    problems.join("\n"),
  );
  assert.ok(problems.includes('store.stram: unknown key (not allowed here); did you mean "stream"?'), problems.join("\n"));
  assert.ok(problems.includes("actors[1].retry.max_attempts: must be >= 1"), problems.join("\n"));
  assert.ok(
    problems.some((p) => p.startsWith("actors[1].name: must match pattern")),
    problems.join("\n"),
  );
  assert.ok(problems.includes("routes.rules[0].to: must NOT have fewer than 1 items"), problems.join("\n"));
});

test("wrong types are named", () => {
  const problems = problemsOf(() => configFrom({ nats: { servers: "nats://x:4222" }, actors: {} }));
  assert.ok(problems.includes("nats.servers: must be array"), problems.join("\n"));
  assert.ok(problems.includes("actors: must be array"), problems.join("\n"));
});

test("semantic checks: duplicate actors and unknown route targets", () => {
  const problems = problemsOf(() =>
    configFrom({ actors: [{ name: "a" }, { name: "a" }], routes: { rules: [{ match: { type: "X" }, to: ["a", "ghost"] }] } }),
  );
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

test("every duration is converted to milliseconds once, at load; loading a loaded config changes nothing", () => {
  const c = configFrom({
    store: { max_age: "1w", duplicate_window: 30_000 },
    actors: [{ name: "a", ack_wait: "250ms", timeout: "2m", retry: { backoff: ["1s", 500, "1h"] }, idempotency: { ttl: "7d" } }],
  });
  assert.is(c.store.max_age, 604_800_000);
  assert.is(c.store.duplicate_window, 30_000);
  const a = c.actors[0]!;
  assert.equal([a.ack_wait, a.timeout, a.retry.backoff, a.idempotency.ttl], [250, 120_000, [1000, 500, 3_600_000], 604_800_000]);
  assert.equal(configFrom(JSON.parse(JSON.stringify(c))), c);
});

test("what nats-server refuses is a config problem, not a start-up failure (found by config-starts.int)", () => {
  const problems = problemsOf(() =>
    configFrom({
      store: { max_age: "50ms", duplicate_window: 1 },
      actors: [{ name: "a", idempotency: { ttl: "99ms" } }, { name: "a-p1" }],
    }),
  );
  assert.equal(problems.sort(), [
    "actors[0].idempotency.ttl: 99 ms is shorter than 100 ms, the least JetStream takes for a stream's age or duplicate window",
    'actors[1].name: "a-p1" is the name of a partition durable of actor "a" (<actor>-p<k> when ordered); choose another name',
    "store.duplicate_window: 1 ms is shorter than 100 ms, the least JetStream takes for a stream's age or duplicate window",
    "store.max_age: 50 ms is shorter than 100 ms, the least JetStream takes for a stream's age or duplicate window",
  ]);
  // JetStream holds max_msg_size as an int32
  assert.equal(
    problemsOf(() => configFrom({ store: { max_msg_size: 2 ** 31 } })),
    ["store.max_msg_size: must be <= 2147483647"],
  );
  // the limits themselves, and 0 (forever, the default window), are fine
  const c = configFrom({ store: { max_age: "100ms", duplicate_window: "100ms", max_msg_size: 2 ** 31 - 1 }, actors: [{ name: "a-p" }] });
  assert.is(c.store.max_age, 100);
  assert.is(configFrom({ store: { max_age: 0, duplicate_window: 0 } }).store.max_age, 0);
});

test("a stateful actor's default partitions are the schema's default for ordered.partitions", () => {
  assert.is(configFrom({ actors: [{ name: "a", ordered: {} }] }).actors[0]!.ordered!.partitions, DEFAULT_PARTITIONS);
});

test.run();
