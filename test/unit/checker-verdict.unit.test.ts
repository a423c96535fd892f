import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, type AckedRecord, type SeenRecord } from "../../runtime/cluster/checker.ts";
import { mergeSeen } from "../../runtime/cluster/checker-input.ts";
import { duplicateWindows, faultStats, maxUnavailableMs, verdict, type FaultRecord } from "../../runtime/cluster/verdict.ts";

const to = ["plain", "ordered"];
const acked: AckedRecord[] = [
  { id: "e1", key: "k", to, at: 1000 },
  { id: "e2", key: "k", to, at: 1100 },
  { id: "e3", key: "j", to, at: 5100 },
];

test("an ordered actor is judged against store order: a retried publish acked after a later event is not a reordering", () => {
  // e1's first attempt was stored (seq 1) but its ack lost; e2 was acked first; e1's retry then got a duplicate ack
  const retried: AckedRecord[] = [
    { id: "e2", key: "k", to },
    { id: "e1", key: "k", to },
  ];
  const stored = [
    { id: "e1", seq: 1 },
    { id: "e2", seq: 2 },
  ];
  const seen = [
    { actor: "ordered", id: "e1" },
    { actor: "ordered", id: "e2" },
  ];
  assert.is(check({ acked: retried, stored, seen }).targets.find((t) => t.name === "ordered")!.outOfOrder, 0);
  // without the store, ack order is all there is
  assert.is(check({ acked: retried, seen }).targets.find((t) => t.name === "ordered")!.outOfOrder, 1);
  // handled against store order: a real reordering is still caught
  const swapped = [
    { actor: "ordered", id: "e2" },
    { actor: "ordered", id: "e1" },
  ];
  assert.is(check({ acked: retried, stored, seen: swapped }).targets.find((t) => t.name === "ordered")!.outOfOrder, 1);
});

test("max_unavailable_ms is the longest gap between acks", () => {
  assert.is(maxUnavailableMs(acked), 4000);
  assert.is(maxUnavailableMs([{ id: "x" }]), 0);
});

test("duplicates are placed in the windows of docs/concepts/actors.md: process killed, cluster fault, or unexplained", () => {
  const seen: SeenRecord[] = [
    { actor: "plain", id: "e1", pid: 10, at: 1000 },
    { actor: "plain", id: "e1", pid: 11, at: 3000 }, // pid 10 killed at 2000
    { actor: "plain", id: "e2", pid: 11, at: 50_000 },
    { actor: "plain", id: "e2", pid: 11, at: 52_000 }, // a partition ended at 40_000: within the aftermath
    { actor: "plain", id: "e3", pid: 11, at: 200_000 },
    { actor: "plain", id: "e3", pid: 12, at: 201_000 }, // no fault near
  ];
  const faults: FaultRecord[] = [
    { kind: "kill-actor", target: "plain-1", start: 2000, end: 4000, pid: 10 },
    { kind: "partition-node", target: "n1", start: 30_000, end: 40_000 },
  ];
  assert.equal(duplicateWindows(seen, faults), { process_killed: 1, cluster_fault: 1, unexplained: 1 });
  // a killed commander (the chaos run's aggregate commands, another process) explains no actor's duplicate
  const commander: FaultRecord = { kind: "kill-commander", target: "commander-1", start: 199_000, end: 202_000, pid: 20 };
  assert.equal(duplicateWindows(seen, [...faults, commander]), { process_killed: 1, cluster_fault: 1, unexplained: 1 });
  const gaps: AckedRecord[] = [1000, 1500, 9000, 31_000, 35_000, 150_000].map((at, i) => ({ id: `a${i}`, at }));
  assert.equal(faultStats(gaps, seen, faults), {
    "kill-actor": { count: 1, max_unavailable_ms: 22_000, duplicates: 1 }, // gaps beginning in 1000..9000 (the fault, 5 s after its heal)
    "partition-node": { count: 1, max_unavailable_ms: 115_000, duplicates: 1 }, // gaps beginning in 29000..45000: 31000-35000, 35000-150000
  });
});

test("the verdict: counts summed over targets, reordering only for ordered actors, faults by kind, seed", () => {
  const stored = acked.map((a, i) => ({ id: a.id, seq: i + 1 }));
  const seen: SeenRecord[] = [
    ...["e2", "e1", "e3"].map((id) => ({ actor: "plain", id })),
    ...["e1", "e2", "e2"].map((id) => ({ actor: "ordered", id })),
  ];
  const result = check({ acked, stored, seen, unordered: ["plain"], duplicatesAllowed: to });
  const faults: FaultRecord[] = [
    { kind: "loss", start: 0, end: 1 },
    { kind: "loss", start: 2, end: 3 },
    { kind: "kill-node", target: "n2", start: 4, end: 5 },
  ];
  const v = verdict({ result, acked, seen, faults, sent: 4, seed: 42, unordered: ["plain"] });
  assert.equal(
    {
      events: v.events,
      acked: v.acked,
      lost: v.lost,
      duplicated: v.duplicated,
      reordered: v.reordered,
      faults: v.faults,
      max: v.max_unavailable_ms,
      seed: v.seed,
      valid: v.valid,
    },
    { events: 4, acked: 3, lost: 1, duplicated: 1, reordered: 0, faults: { loss: 2, "kill-node": 1 }, max: 4000, seed: 42, valid: false },
  );
});

test("mergeSeen orders several processes' handlings by time", () => {
  const a = [
    { actor: "x", id: "1", at: 1 },
    { actor: "x", id: "3", at: 3 },
  ];
  const b = [{ actor: "x", id: "2", at: 2 }];
  assert.equal(
    mergeSeen([a, b]).map((s) => s.id),
    ["1", "2", "3"],
  );
  assert.equal(
    mergeSeen([[{ actor: "x", id: "1" }], b]).map((s) => s.id),
    ["1", "2"],
  );
});

test("jetbus check --json prints one verdict line with the faults, the seed and the targets", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-verdict-"));
  try {
    const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
    writeFileSync(join(dir, "acked.jsonl"), jsonl(acked.map((a) => ({ ...a, to: ["ordered"] }))));
    writeFileSync(join(dir, "sent.jsonl"), jsonl([...acked, { id: "e4" }].map((a) => ({ id: a.id }))));
    writeFileSync(join(dir, "store.jsonl"), jsonl(acked.map((a, i) => ({ id: a.id, seq: i + 1 }))));
    writeFileSync(join(dir, "faults.jsonl"), jsonl([{ kind: "pause-node", target: "n3", start: 0, end: 10 }]));
    writeFileSync(join(dir, "seen-1.jsonl"), jsonl(["e1", "e3"].map((id, i) => ({ actor: "ordered", id, pid: 1, at: 10 + i }))));
    writeFileSync(join(dir, "seen-2.jsonl"), jsonl(["e2"].map((id) => ({ actor: "ordered", id, pid: 2, at: 10.5 }))));
    const r = spawnSync(
      process.execPath,
      [
        "bin/jetbus.js",
        "check",
        "--acked",
        join(dir, "acked.jsonl"),
        "--store",
        join(dir, "store.jsonl"),
        "--sent",
        join(dir, "sent.jsonl"),
        "--faults",
        join(dir, "faults.jsonl"),
        "--seed",
        "7",
        "--json",
        "--seen",
        join(dir, "seen-1.jsonl"),
        join(dir, "seen-2.jsonl"),
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.is(r.status, 0, r.stderr + r.stdout);
    const lines = r.stdout.trim().split("\n");
    assert.is(lines.length, 1);
    const v = JSON.parse(lines[0]!);
    assert.equal(
      [v.events, v.acked, v.lost, v.duplicated, v.reordered, v.faults, v.seed, v.valid],
      [4, 3, 0, 0, 0, { "pause-node": 1 }, 7, true],
    );
    assert.ok(Array.isArray(v.targets) && typeof v.max_unavailable_ms === "number");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
