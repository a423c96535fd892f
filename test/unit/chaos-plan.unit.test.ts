// The chaos harness's schedule (chaos/faults.ts, chaos/rng.ts): a seed replays the same plan, and
// every plan has every fault kind of issue 16 at least once. The harness itself runs in CI through
// `.ci/run` (`npm run chaos -- --profile short --json`, root only).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ALL_KINDS, baseRules, planFaults } from "../../chaos/faults.ts";
import { Rng } from "../../chaos/rng.ts";
import { PROFILES } from "../../chaos/profiles.ts";

test("a seed replays the same fault plan; another seed gives another", () => {
  const a = planFaults(new Rng(42), PROFILES.long.extraFaults);
  assert.equal(planFaults(new Rng(42), PROFILES.long.extraFaults), a);
  assert.not.equal(planFaults(new Rng(43), PROFILES.long.extraFaults), a);
});

test("every plan holds every fault kind at least once, pauses and partitions longer than a Raft election (9 s)", () => {
  for (const seed of [0, 1, 7, 42, 2 ** 31 - 1]) {
    for (const profile of Object.values(PROFILES)) {
      const plan = planFaults(new Rng(seed), profile.extraFaults);
      assert.equal(new Set(plan.map((f) => f.kind)), new Set(ALL_KINDS));
      assert.is(plan.length, ALL_KINDS.length + profile.extraFaults);
      for (const f of plan) if (/pause|partition/.test(f.kind)) assert.ok(f.holdMs >= 10_000, `${f.kind} held ${f.holdMs} ms`);
    }
  }
  assert.is(ALL_KINDS.length, 10);
});

test("the proxied pair refuses each other's direct address; the third node has no standing rule", () => {
  assert.equal(baseRules("n3"), []);
  assert.equal(
    baseRules("n1").map((r) => r.rule),
    ["ip saddr 10.213.0.12 reject with tcp reset", "ip daddr 10.213.0.12 reject with tcp reset"],
  );
  assert.equal(
    baseRules("n2").map((r) => r.rule),
    ["ip saddr 10.213.0.11 reject with tcp reset", "ip daddr 10.213.0.11 reject with tcp reset"],
  );
});

test("Rng: values in range, deterministic", () => {
  const r = new Rng(5);
  const xs = Array.from({ length: 1000 }, () => r.int(3, 7));
  assert.ok(xs.every((x) => x >= 3 && x <= 7));
  assert.equal(new Set(xs), new Set([3, 4, 5, 6, 7]));
  assert.equal(new Rng(5).shuffle([1, 2, 3, 4]), new Rng(5).shuffle([1, 2, 3, 4]));
});

test.run();
