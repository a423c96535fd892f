// The chaos harness's schedule (chaos/faults.ts, chaos/rng.ts): a seed replays the same plan, and
// every plan has every fault kind (issue 16's and kill-commander) at least once and kills a chaos-counter process. The harness itself runs in CI through
// `.ci/run` (`npm run chaos -- --profile short --json`, root only).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ALL_KINDS, baseRules, killTarget, planFaults } from "../../chaos/faults.ts";
import { Rng } from "../../chaos/rng.ts";
import { PROFILES } from "../../chaos/profiles.ts";
import { Actors, actorProcesses, COMMANDERS } from "../../chaos/workload-config.ts";
import { HOST_ADDR, NODE_ADDR, PROXY_ADDR } from "../../chaos/cluster.ts";
import { cidrsOverlap, SUBNET_CIDR, subnetTaken } from "../../chaos/net.ts";

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
  assert.is(ALL_KINDS.length, 11);
});

// the harness's roles in start order (chaos/bring-up.ts, chaos/workload.ts)
const ROLES = [
  "proxy",
  "router-1",
  ...[Actors.Plain, Actors.Ordered, Actors.Counter].flatMap(actorProcesses),
  "router-2",
  "publisher",
  ...COMMANDERS,
];

test("every plan kills a chaos-counter process; kill-actors take counter, ordered, plain in turn, either process of each", () => {
  const counterKills = new Set<string>();
  for (let seed = 0; seed < 300; seed++) {
    for (const profile of Object.values(PROFILES)) {
      const killed = planFaults(new Rng(seed), profile.extraFaults)
        .filter((f) => f.kind === "kill-actor")
        .map((f) => killTarget(f, ROLES));
      assert.ok(killed[0]?.startsWith(`${Actors.Counter}-`), `seed ${seed} ${profile.name}: kill-actor targets ${killed.join(", ")}`);
      const turns = [Actors.Counter, Actors.Ordered, Actors.Plain];
      killed.forEach((name, i) =>
        assert.ok(actorProcesses(turns[i % 3]!).includes(name), `seed ${seed} ${profile.name}: ${name} at turn ${i}`),
      );
      counterKills.add(killed[0]!);
    }
  }
  assert.equal(counterKills, new Set(actorProcesses(Actors.Counter)));
});

test("kill-router ends one of the routers, kill-commander one of the commanders; no candidate is a clear error", () => {
  const routers = new Set(Array.from({ length: 10 }, (_, pick) => killTarget({ kind: "kill-router", holdMs: 1000, pick }, ROLES)));
  assert.equal(routers, new Set(["router-1", "router-2"]));
  const commanders = new Set(Array.from({ length: 10 }, (_, pick) => killTarget({ kind: "kill-commander", holdMs: 1000, pick }, ROLES)));
  assert.equal(commanders, new Set(COMMANDERS));
  assert.throws(
    () => killTarget({ kind: "kill-actor", holdMs: 1000, pick: 0, actor: Actors.Counter }, ["router-1"]),
    /no process for kill-actor/,
  );
});

test("the proxied pair refuses each other's direct address; the third node has no standing rule", () => {
  assert.equal(baseRules("n3"), []);
  assert.equal(
    baseRules("n1").map((r) => r.rule),
    ["ip saddr 198.18.213.12 reject with tcp reset", "ip daddr 198.18.213.12 reject with tcp reset"],
  );
  assert.equal(
    baseRules("n2").map((r) => r.rule),
    ["ip saddr 198.18.213.11 reject with tcp reset", "ip daddr 198.18.213.11 reject with tcp reset"],
  );
});

test("every harness address is in the benchmarking range 198.18.0.0/15 (RFC 2544), none in a private range", () => {
  const addrs = [HOST_ADDR, PROXY_ADDR, ...Object.values(NODE_ADDR)];
  assert.is(addrs.length, 5);
  for (const a of [...addrs, SUBNET_CIDR]) {
    assert.ok(cidrsOverlap(a, "198.18.0.0/15"), `${a} is in 198.18.0.0/15`);
    for (const privateRange of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
      assert.not.ok(cidrsOverlap(a, privateRange), `${a} in ${privateRange}`);
  }
  assert.is(new Set(addrs).size, addrs.length, "distinct addresses");
});

test("the run refuses a machine whose interfaces overlap its subnet, by any prefix length; its own leftovers do not count", () => {
  const lo = "lo               UNKNOWN        127.0.0.1/8 ";
  assert.is(subnetTaken(`${lo}\neth0             UP             192.0.2.2/24 `), undefined);
  assert.match(subnetTaken(`${lo}\nbench0           UP             198.18.0.1/15 `) ?? "", "bench0");
  assert.match(subnetTaken(`${lo}\nlab              UP             198.18.213.77/28 `) ?? "", "lab");
  assert.is(subnetTaken(`${lo}\nlab              UP             198.18.214.1/24 `), undefined);
  assert.is(subnetTaken(`${lo}\njbchaos-br       UP             198.18.213.1/24 `), undefined);
  assert.not.ok(cidrsOverlap("not-an-address/24", SUBNET_CIDR));
});

test("Rng: values in range, deterministic", () => {
  const r = new Rng(5);
  const xs = Array.from({ length: 1000 }, () => r.int(3, 7));
  assert.ok(xs.every((x) => x >= 3 && x <= 7));
  assert.equal(new Set(xs), new Set([3, 4, 5, 6, 7]));
  assert.equal(new Rng(5).shuffle([1, 2, 3, 4]), new Rng(5).shuffle([1, 2, 3, 4]));
});

test.run();
