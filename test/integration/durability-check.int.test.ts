import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { configFrom } from "../../runtime/config/load.ts";
import { checkDurability, FindingKind } from "../../runtime/cluster/durability.ts";
import { DurabilityError, ErrorCode } from "../../runtime/errors.ts";
import { ensureEventStream } from "../../runtime/store/stream.ts";
import { retryTransient } from "../../runtime/nats/connect.ts";
import { startCluster, startServer } from "../helpers/nats.ts";
import { spawn, spawnSync } from "node:child_process";
import { DurabilityMode } from "../../runtime/app/startup-durability.ts";
import { startRuntime } from "../../runtime/app/bootstrap.ts";
import pino from "pino";
import { writeConfig } from "../fixtures/actor-process.ts";
import { waitFor } from "../helpers/wait.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";
import { Writable } from "node:stream";

type Run = { code: number | null; stdout: string; stderr: string };

/** The real CLI as its own process: `done` resolves when it exits. */
function jetbus(args: string[]): { done: Promise<Run>; stop: () => void; output: () => string } {
  const child = spawn(process.execPath, ["bin/jetbus.js", ...args], {
    env: { ...process.env, JETBUS_LOG_JSON: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "",
    stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<Run>((r) => child.once("exit", (code) => r({ code, stdout, stderr })));
  return { done, stop: () => child.kill("SIGTERM"), output: () => stdout + stderr };
}

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
    assert.ok(
      drift.some((p) => p.startsWith("store.replicas is 1 on the server but 3")),
      drift.join("; "),
    );
    assert.ok(
      drift.some((p) => p.startsWith("store.max_age is 1d on the server but 7d")),
      drift.join("; "),
    );
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

    // the same through the CLI: warnings by default, exit 2 with --strict (a config problem, like CONFIG_INVALID)
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["bin/jetbus.js", "cluster", "durability", "--servers", cluster.urls.join(","), ...args], {
        encoding: "utf8",
        timeout: 60_000,
      });
    const warn = cli();
    assert.is(warn.status, 0, warn.stderr);
    assert.match(warn.stdout, /warning: EVENTS: has 1 replica/);
    const strict = cli("--strict");
    assert.is(strict.status, 2, strict.stdout + strict.stderr);
    assert.match(strict.stderr, /\[DURABILITY\]: durability check failed/);

    // start-up of the long-running commands: --strict refuses before anything starts, exit 2
    const matching = writeConfig(configFrom({ store: { replicas: 1, max_age: "1d" }, actors: [{ name: "probe-a", handler: "probe" }] }));
    const common = ["--servers", cluster.urls.join(","), "--config", matching, "--strict"];
    const refused = await Promise.all([
      jetbus(["router", ...common]).done,
      jetbus(["actor", "probe-a", ...common]).done,
      jetbus(["up", "--no-http", ...common]).done,
    ]);
    for (const r of refused) {
      assert.is(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /error \[DURABILITY\]: durability check failed/);
      assert.match(r.stderr, /EVENTS: has 1 replica on a cluster/);
      assert.match(r.stderr, /hint: raise the listed streams/);
    }
    await retryTransient(() => jsm.consumers.info(Streams.Events, Consumers.router)).then(
      () => assert.unreachable("a strict router that refused must not create its durable"),
      (err: Error) => assert.match(err.message, /consumer not found/i),
    );
    await retryTransient(() => jsm.streams.info(Streams.Inbox)).then(
      () => assert.unreachable("a strict actor or up that refused must not create the inbox stream"),
      (err: Error) => assert.match(err.message, /stream not found/i),
    );

    // without --strict the same findings are pino warnings and the router runs
    const warned = jetbus(["router", "--servers", cluster.urls.join(","), "--config", matching]);
    await waitFor(() => /router running/.test(warned.output()), "router started despite findings", 60_000, 100);
    warned.stop();
    const w = await warned.done;
    assert.is(w.code, 0, w.stdout + w.stderr);
    const warnings = w.stderr
      .split("\n")
      .filter((l) => l.includes('"durability"'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; subject: string });
    assert.ok(warnings.length >= 2, w.stderr);
    assert.ok(
      warnings.every((x) => x.level === 40),
      "pino level warn",
    );
    assert.ok(
      warnings.some((x) => x.subject === "EVENTS" && /has 1 replica on a cluster/.test(x.msg)),
      JSON.stringify(warnings),
    );
  } finally {
    await stop();
  }
});

test("on a single node: R1 is expected (no finding) and a store matching its config is clean; drift still reported, with `store apply`, and nothing changed", async () => {
  const { server, nc, stop } = await startServer();
  try {
    const jsm = await jetstreamManager(nc);
    const config = configFrom({ store: { max_bytes: 1_000_000 } });
    await ensureEventStream(jsm, config.store);
    await new Kvm(nc).create("jetbus-presence", { replicas: 1 });
    assert.equal(await checkDurability(jsm, config, { strict: true }), []);
    const drift = await checkDurability(jsm, configFrom({ store: { max_bytes: 2_000_000 } }));
    assert.equal(
      drift.map((f) => f.problem),
      ["store.max_bytes is 1000000 on the server but 2000000 in the config"],
    );
    // a long-running process (warn mode) says so, points at `jetbus store apply`, and leaves the store alone
    const lines: string[] = [];
    const memory = pino({ level: "info" }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const rt = await startRuntime({
      config: configFrom({ store: { max_bytes: 2_000_000 } }),
      servers: server.url,
      logger: memory,
      durability: DurabilityMode.Warn,
    });
    await rt.dispose();
    assert.ok(
      lines.some((l) => /store\.max_bytes is 1000000 on the server but 2000000/.test(l)),
      lines.join(""),
    );
    assert.ok(
      lines.some((l) => /stream EVENTS is used as it is; `jetbus store apply` shows the differences/.test(l)),
      lines.join(""),
    );
    assert.is((await jsm.streams.info("EVENTS")).config.max_bytes, 1_000_000);
  } finally {
    await stop();
  }
});

test("startRuntime: strict throws DurabilityError and closes what it opened; warn logs; off skips", async () => {
  const { cluster, stop } = await startCluster(3);
  try {
    const config = configFrom({ store: { replicas: 1 } });
    // a pino logger writing into memory records what the check says
    const lines: string[] = [];
    const memory = pino({ level: "info" }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    try {
      await startRuntime({ config, servers: cluster.urls.join(","), logger: memory, durability: DurabilityMode.Strict });
      assert.unreachable("strict start-up must throw");
    } catch (err) {
      assert.instance(err, DurabilityError);
      assert.match((err as Error).message, /store\.replicas: is 1 on a cluster/);
    }
    const rt = await startRuntime({ config, servers: cluster.urls.join(","), logger: memory, durability: DurabilityMode.Warn });
    await rt.dispose();
    assert.ok(
      lines.some((l) => /"level":40/.test(l) && /durability: store\.replicas is 1 on a cluster/.test(l)),
      lines.join(""),
    );
    lines.length = 0;
    const off = await startRuntime({ config, servers: cluster.urls.join(","), logger: memory });
    await off.dispose();
    assert.ok(!lines.some((l) => /durability/.test(l)), "one-shot commands do not check");
  } finally {
    await stop();
  }
});

test.run();
