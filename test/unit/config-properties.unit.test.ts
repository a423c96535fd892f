// Property-based tests of the config loader (fast-check): any text or document is a config whose
// values JetStream and the worker's timers can hold, or a ConfigError listing each problem with
// its path; never another exception, never a stack overflow. Counterexamples found so far are
// kept in test/corpus/config and replayed by fuzz-corpus.unit.test.ts.
// FC_SEED=N replays a run; FC_RUNS=N runs more cases (default 300 per property).
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../runtime/config/load.ts";
import { docOutcome, textOutcome } from "../fixtures/config-checks.ts";
import { typed } from "../fixtures/codec-checks.ts";
import { configDoc, filter } from "../fixtures/config-arbitraries.ts";

const params = { numRuns: Number(process.env.FC_RUNS ?? 300), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) };

test("any config-shaped document is a holdable config or a ConfigError with its problems", () => {
  fc.assert(
    fc.property(configDoc, (doc) => void docOutcome(doc)),
    params,
  );
});

test("any JSON value is a config or a ConfigError", () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => void docOutcome(doc)),
    params,
  );
});

test("any text is a config or a ConfigError; invalid JSON is reported at a line and column", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.json({ maxDepth: 3 }),
        configDoc.map((d) => JSON.stringify(d, null, 2)),
      ),
      (text) => {
        const out = textOutcome(text);
        if (!out.ok && out.problems[0]!.message.startsWith("invalid JSON")) assert.match(out.problems[0]!.path, /^line \d+, column \d+$/);
      },
    ),
    params,
  );
});

test("a valid config file with one character changed loads or fails typed", () => {
  const base = JSON.stringify(
    {
      store: { replicas: 3, max_age: "7d" },
      actors: [{ name: "a", ack_wait: "30s", retry: { backoff: ["1s"] }, ordered: { key: "data.k", partitions: 4 } }],
      routes: { rules: [{ match: { type: "User*", data: { all: [{ gte: { n: 1 } }] } }, to: ["a"] }] },
    },
    null,
    2,
  );
  fc.assert(
    fc.property(
      fc.nat(base.length - 1),
      fc.constantFrom("", "{", "}", "[", "]", '"', ",", ":", "9", "-", "\\", "\u0000", "\ud800"),
      (at, ch) => {
        void textOutcome(base.slice(0, at) + ch + base.slice(at + 1));
      },
    ),
    params,
  );
});

test("data filters nested to any depth are a config or a ConfigError, never a stack overflow", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6000 }), fc.constantFrom("not", "all", "any"), (depth, op) => {
      let f: unknown = { eq: { a: 1 } };
      for (let i = 0; i < depth; i++) f = op === "not" ? { not: f } : { [op]: [f] };
      void docOutcome({ actors: [{ name: "a" }], routes: { rules: [{ match: { data: f }, to: ["a"] }] } });
    }),
    { ...params, numRuns: 40 },
  );
  fc.assert(
    fc.property(filter, (f) => void docOutcome({ actors: [{ name: "a" }], routes: { rules: [{ match: { data: f }, to: ["a"] }] } })),
    params,
  );
});

test("loadConfig: any bytes in a file load or fail typed", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-config-fuzz-"));
  try {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const file = join(dir, "c.json");
        writeFileSync(file, bytes);
        typed(() => loadConfig(file), ["CONFIG_INVALID"]);
      }),
      { ...params, numRuns: 100 },
    );
    typed(() => loadConfig(join(dir, "missing.json")), ["CONFIG_UNREADABLE"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
