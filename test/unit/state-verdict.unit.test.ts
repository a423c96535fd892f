import { test } from "uvu";
import * as assert from "uvu/assert";
import type { AckedRecord } from "../../runtime/cluster/checker.ts";
import { counterStateVerdict } from "../../runtime/cluster/state-verdict.ts";
import { verdict } from "../../runtime/cluster/verdict.ts";

// k0: 3 events (e2 logged twice by a retried publish: one event), k1: 2 events
const acked: AckedRecord[] = [
  { id: "e1", key: "k0" },
  { id: "e2", key: "k0" },
  { id: "e2", key: "k0" },
  { id: "e3", key: "k1" },
  { id: "e4", key: "k0" },
  { id: "e5", key: "k1" },
  { id: "no-key" },
];

test("every key's counter equal to its distinct acked events: valid", () => {
  const v = counterStateVerdict(
    "counter",
    acked,
    new Map([
      ["k0", { n: 3 }],
      ["k1", { n: 2 }],
    ]),
  );
  assert.equal(v, { actor: "counter", keys: 2, events: 5, mismatches: [], valid: true });
});

test("a key counted once too often or too rarely is a mismatch with expected and actual", () => {
  const twice = counterStateVerdict(
    "counter",
    acked,
    new Map([
      ["k0", { n: 4 }],
      ["k1", { n: 2 }],
    ]),
  );
  assert.equal(twice.mismatches, [{ key: "k0", expected: 3, actual: 4 }]);
  assert.is(twice.valid, false);
  const lost = counterStateVerdict(
    "counter",
    acked,
    new Map([
      ["k0", { n: 3 }],
      ["k1", { n: 1 }],
    ]),
  );
  assert.equal(lost.mismatches, [{ key: "k1", expected: 2, actual: 1 }]);
  assert.is(lost.valid, false);
});

test("a key with no state counts 0, a state with no acked event expects 0, a non-counter state is null", () => {
  const v = counterStateVerdict(
    "counter",
    acked,
    new Map<string, unknown>([
      ["k0", { count: 3 }],
      ["ghost", { n: 1 }],
    ]),
  );
  assert.equal(v.mismatches, [
    { key: "ghost", expected: 0, actual: 1 },
    { key: "k0", expected: 3, actual: null },
    { key: "k1", expected: 2, actual: 0 },
  ]);
  assert.is(v.keys, 3);
});

test("the fault run's verdict carries the state section and fails on a mismatch", () => {
  const result = { valid: true, targets: [] };
  const ok = counterStateVerdict(
    "counter",
    acked,
    new Map([
      ["k0", { n: 3 }],
      ["k1", { n: 2 }],
    ]),
  );
  const good = verdict({ result, acked, seen: [], faults: [], state: ok });
  assert.equal(good.state, ok);
  assert.is(good.valid, true);
  const bad = counterStateVerdict("counter", acked, new Map([["k0", { n: 3 }]]));
  assert.is(verdict({ result, acked, seen: [], faults: [], state: bad }).valid, false);
  assert.is(verdict({ result, acked, seen: [], faults: [] }).state, undefined);
});

test.run();
