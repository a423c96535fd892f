import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, formatCheck, type AckedRecord, type Target } from "../../runtime/cluster/checker.ts";
import { parseJsonl, validateAcked } from "../../runtime/cluster/checker-input.ts";
import { UsageError } from "../../runtime/errors.ts";

const to = ["a1", "a2"];
const acked: AckedRecord[] = [
  { id: "e1", key: "k1", to },
  { id: "e2", key: "k2", to },
  { id: "e3", key: "k1", to },
  { id: "e4", key: "k1", to: ["a1"] },
];
const stored = acked.map((a, i) => ({ id: a.id, seq: i + 1 }));
const seenBy = (actor: string, ids: string[]) => ids.map((id) => ({ actor, id }));
const clean = [...seenBy("a1", ["e1", "e2", "e3", "e4"]), ...seenBy("a2", ["e1", "e2", "e3"])];
const target = (r: ReturnType<typeof check>, name: string) => r.targets.find((t) => t.name === name) as Target;

test("a clean run: everything acked is stored once and handled once by each target, in key order", () => {
  const r = check({ acked, stored, seen: clean });
  assert.ok(r.valid, formatCheck(r));
  assert.equal(
    r.targets.map((t) => t.name),
    ["store", "a1", "a2"],
  );
  assert.equal([target(r, "a1").expected, target(r, "a2").expected, target(r, "store").expected], [4, 3, 4]);
  for (const t of r.targets) assert.equal([t.lost, t.duplicated, t.outOfOrder, t.unexpected], [0, 0, 0, 0]);
});

test("lost: acked but missing from the store, and routed but never handled", () => {
  const r = check({ acked, stored: stored.filter((s) => s.id !== "e2"), seen: clean.filter((s) => !(s.actor === "a2" && s.id === "e3")) });
  assert.not.ok(r.valid);
  assert.is(target(r, "store").lost, 1);
  assert.equal(target(r, "store").examples.lost, ["e2"]);
  assert.is(target(r, "a2").lost, 1);
  assert.equal(target(r, "a2").examples.lost, ["e3"]);
  assert.is(target(r, "a1").lost, 0);
  assert.ok(target(r, "a1").valid);
});

test("duplicated: stored twice, handled twice; counted once per event with the surplus copies in `extra`", () => {
  const r = check({ acked, stored: [...stored, { id: "e1", seq: 9 }], seen: [...clean, ...seenBy("a1", ["e2", "e2"])] });
  assert.is(target(r, "store").duplicated, 1);
  assert.is(target(r, "a1").duplicated, 1);
  assert.is(target(r, "a1").extra, 2);
  assert.not.ok(target(r, "a1").valid);
  // an actor declared non-idempotent: duplicates are reported but do not fail it
  const allowed = check({ acked, seen: [...clean, ...seenBy("a1", ["e2"])], duplicatesAllowed: ["a1"] });
  assert.is(target(allowed, "a1").duplicated, 1);
  assert.ok(allowed.valid);
});

test("out-of-order: within a key only; interleaving different keys is fine; a redelivery does not count as reordering", () => {
  // k1 order is e1, e3, e4; a1 handles e3 before e1 -> e1 is out of order
  const r = check({
    acked,
    seen: [...seenBy("a1", ["e3", "e2", "e1", "e4"]), ...seenBy("a2", ["e2", "e1", "e3", "e1"])],
    duplicatesAllowed: ["a2"],
  });
  assert.is(target(r, "a1").outOfOrder, 1);
  assert.equal(target(r, "a1").examples.outOfOrder, ["e1"]);
  assert.is(target(r, "a2").outOfOrder, 0, "e2 (k2) before e1 (k1) is not a reordering; the second e1 is a duplicate, not a reordering");
  assert.not.ok(r.valid);
  assert.ok(
    check({ acked, seen: seenBy("a1", ["e3", "e1", "e2", "e4"]), unordered: ["a1", "a2"] }).targets.every((t) => t.lost > 0 || t.valid),
  );
  // the store's order is judged by seq, whatever the order of the lines
  const swapped = check({
    acked,
    stored: [
      { id: "e3", seq: 1 },
      { id: "e1", seq: 3 },
      { id: "e2", seq: 2 },
      { id: "e4", seq: 4 },
    ],
    seen: [],
  });
  assert.is(target(swapped, "store").outOfOrder, 1);
});

test("unexpected vs recovered: a made-up event fails; an unacked event that is in the store was a lost ack, not a fault", () => {
  const r = check({ acked, stored: [...stored, { id: "lost-ack", seq: 5 }], seen: [...clean, ...seenBy("a1", ["lost-ack", "ghost"])] });
  assert.is(target(r, "store").recovered, 1);
  assert.is(target(r, "store").unexpected, 0);
  assert.is(target(r, "a1").recovered, 1);
  assert.is(target(r, "a1").unexpected, 1);
  assert.equal(target(r, "a1").examples.unexpected, ["ghost"]);
  assert.not.ok(target(r, "a1").valid);
  assert.ok(target(r, "store").valid);
});

test("the report prints one row per target with the counts, and the verdict", () => {
  const text = formatCheck(check({ acked, stored, seen: clean.slice(1) }));
  assert.match(text, /^target\s+expected\s+ok\s+lost\s+duplicated\s+out-of-order\s+unexpected\s+recovered\s+valid/);
  assert.match(text, /\na1\s+4\s+3\s+1\s+0\s+0\s+0\s+0\s+false/);
  assert.match(text, /lost: e1/);
  assert.match(text, /valid\? false\n$/);
});

test("bad input lines are usage errors naming file and line", () => {
  assert.throws(
    () => parseJsonl('{"id":"e1"}\n\n{"key":"k"}\n', "acked.jsonl", validateAcked),
    (e: unknown) => e instanceof UsageError && /acked\.jsonl:3: "id" must be a non-empty string/.test((e as Error).message),
  );
  assert.throws(() => parseJsonl("{nope\n", "acked.jsonl", validateAcked), /acked\.jsonl:1: not JSON/);
});

test("`jetbus check` reads JSON-lines files, prints the table and exits 1 on anomalies, 0 when clean, 2 on bad usage", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-check-"));
  try {
    const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
    writeFileSync(join(dir, "acked.jsonl"), jsonl(acked));
    writeFileSync(join(dir, "store.jsonl"), jsonl(stored));
    writeFileSync(join(dir, "seen-a1.jsonl"), jsonl(seenBy("a1", ["e1", "e2", "e3", "e4"])));
    writeFileSync(join(dir, "seen-a2.jsonl"), jsonl(seenBy("a2", ["e1", "e2"])));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["bin/jetbus.js", "check", ...args], { encoding: "utf8", timeout: 60_000 });
    const bad = run(
      "--acked",
      join(dir, "acked.jsonl"),
      "--store",
      join(dir, "store.jsonl"),
      "--seen",
      join(dir, "seen-a1.jsonl"),
      join(dir, "seen-a2.jsonl"),
    );
    assert.is(bad.status, 1, bad.stderr);
    assert.match(bad.stdout, /\na2\s+3\s+2\s+1\s/);
    assert.match(bad.stdout, /valid\? false/);
    writeFileSync(join(dir, "seen-a2.jsonl"), jsonl(seenBy("a2", ["e1", "e2", "e3"])));
    const good = run(
      "--acked",
      join(dir, "acked.jsonl"),
      "--store",
      join(dir, "store.jsonl"),
      "--seen",
      join(dir, "seen-a1.jsonl"),
      join(dir, "seen-a2.jsonl"),
      "--json",
    );
    assert.is(good.status, 0, good.stderr + good.stdout);
    assert.is(JSON.parse(good.stdout).valid, true);
    assert.is(run("--seen", join(dir, "seen-a1.jsonl")).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
