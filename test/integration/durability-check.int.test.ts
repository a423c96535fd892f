import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { configFrom } from "../../runtime/config/mod.ts";
import { checkDurability, FindingKind } from "../../runtime/cluster/durability.ts";
import { DurabilityError, ErrorCode } from "../../runtime/errors.ts";
import { ensureEventStream } from "../../runtime/store/stream.ts";
import { retryTransient } from "../../runtime/nats/connect.ts";
import { startCluster, startServer } from "../helpers/nats.ts";
import { spawnSync } from "node:child_process";

test("on a 3-node cluster: R1 store and R1 jetbus bucket reported, config drift named by key, strict throws", async () => {
  const { cluster, nc, stop } = await startCluster(3);
  try {
    const jsm = await jetstreamManager(nc);
    // deployed by an older config: R1, one day of retention
    await ensureEventStream(jsm, configFrom({ store: { replicas: 1, max_age: "1d" } }).store);
    const kvm = new Kvm(nc);
    await retryTransient(() => kvm.create("jetbus-presence", { replicas: 1, ttl: 10_000 }));
    await retryTransient(() => kvm.create("jetbus-config", { replicas: 3 }));
    await retryTransient(() => jsm.streams.add({ name: "SOMEONE_ELSES", subjects: ["other.>"], num_replicas: 1 }));

    const config = configFrom({ store: { replicas: 3, max_age: "7d" } });
    const findings = await checkDurability(jsm, config);
    const about = (subject: string, kind: string) => findings.filter((f) => f.subject === subject && f.kind === kind);
    assert.is(about("EVENTS", FindingKind.LowReplicas).length, 1, JSON.stringify(findings));
    assert.is(about("KV jetbus-presence", FindingKind.LowReplicas).length, 1);
    assert.is(about("KV jetbus-config", FindingKind.LowReplicas).length, 0, "R3 bucket is fine");
    assert.ok(!findings.some((f) => f.subject === "SOMEONE_ELSES"), "streams jetbus does not own are not judged");
    const drift = about("EVENTS", FindingKind.ConfigDrift).map((f) => f.problem);
    assert.ok(drift.some((p) => p.startsWith("store.replicas is 1 on the server but 3")), drift.join("; "));
    assert.ok(drift.some((p) => p.startsWith("store.max_age is 86400s on the server but 604800s")), drift.join("; "));
    assert.is(drift.length, 2, drift.join("; "));

    // a config that itself asks for R1 on a cluster is reported too
    const r1 = await checkDurability(jsm, configFrom({ store: { replicas: 1, max_age: "1d" } }));
    assert.ok(r1.some((f) => f.subject === "store.replicas"));

    try {
      await checkDurability(jsm, config, { strict: true });
      assert.unreachable("strict must throw");
    } catch (err) {
      assert.instance(err, DurabilityError);
      assert.is((err as DurabilityError).code, ErrorCode.Durability);
      assert.is((err as DurabilityError).findings.length, findings.length);
      assert.match((err as Error).message, /KV jetbus-presence: has 1 replica/);
    }

    // the same through the CLI: warnings by default, exit 1 with --strict
    const cli = (...args: string[]) => spawnSync(process.execPath, ["bin/jetbus.js", "cluster", "durability", "--servers", cluster.urls.join(","), ...args], { encoding: "utf8", timeout: 60_000 });
    const warn = cli();
    assert.is(warn.status, 0, warn.stderr);
    assert.match(warn.stdout, /warning: EVENTS: has 1 replica/);
    const strict = cli("--strict");
    assert.is(strict.status, 1, strict.stdout + strict.stderr);
    assert.match(strict.stderr, /\[DURABILITY\]: durability check failed/);
  } finally {
    await stop();
  }
});

test("on a single node: R1 is expected (no finding) and a store matching its config is clean; drift still reported", async () => {
  const { nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    const config = configFrom({ store: { max_bytes: 1_000_000 } });
    await ensureEventStream(jsm, config.store);
    await new Kvm(nc).create("jetbus-presence", { replicas: 1 });
    assert.equal(await checkDurability(jsm, config, { strict: true }), []);
    const drift = await checkDurability(jsm, configFrom({ store: { max_bytes: 2_000_000 } }));
    assert.equal(drift.map((f) => f.problem), ["store.max_bytes is 1000000 on the server but 2000000 in the config"]);
  } finally {
    await stop();
  }
});

test.run();
