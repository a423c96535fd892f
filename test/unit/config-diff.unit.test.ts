import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/load.ts";
import { configDiff, isEmptyDiff, renderConfigDiff } from "../../runtime/operations/config-diff.ts";

const rule = (name: string, type = `${name}.*`) => ({ name, match: { type }, to: ["a"] });
const base = { actors: [{ name: "a" }, { name: "b", concurrency: 4 }], routes: { rules: [rule("r1"), rule("r2")] } };

test("equal content is no difference, whatever the key order and whether defaults are written out", () => {
  const written = configFrom({
    routes: { rules: [{ to: ["a"], match: { type: "r1.*" }, name: "r1" }, rule("r2")], mode: "all-matches" },
    actors: [
      { name: "a", concurrency: 16 },
      { concurrency: 4, name: "b" },
    ],
  });
  assert.ok(isEmptyDiff(configDiff(configFrom(structuredClone(base)), written)));
});

test("added, removed and changed actors and rules, a mode change and a reorder are each named", () => {
  const live = configFrom(structuredClone(base));
  const file = configFrom({
    actors: [{ name: "a", concurrency: 2 }, { name: "c" }],
    routes: { mode: "first-match", rules: [rule("r2"), rule("r1", "Other.*"), rule("r3")] },
  });
  const d = configDiff(live, file);
  assert.equal(renderConfigDiff(d), ["actors: + c, - b, ~ a", "rules: + r3, ~ r1", "routes.mode: all-matches -> first-match"]);
  const reordered = configDiff(live, configFrom({ ...structuredClone(base), routes: { rules: [rule("r2"), rule("r1")] } }));
  assert.equal(renderConfigDiff(reordered), ["rules: ~ (rule order)"]);
});

test.run();
