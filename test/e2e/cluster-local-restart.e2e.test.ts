// The one-machine cluster as docs/guides/cluster.md runs it: `cluster up --config` with actors other than the
// seed's, an R3 store, one node killed with SIGKILL and started again with `cluster restart`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { alive, type LocalClusterState } from "../../runtime/cluster/local.ts";
import { Users } from "../../runtime/cluster/permissions.ts";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { EventBus } from "../../runtime/store/mod.ts";
import { runJetbus } from "../helpers/cli.ts";
import { waitCaughtUp } from "../helpers/cluster-nodes.ts";
import { freePortBase } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";

test("cluster up --config with other actors and an R3 store; a SIGKILLed node comes back with `cluster restart` and nothing is lost", async () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-local-restart-"));
  const clusterDir = join(dir, "cluster");
  const cfg = join(dir, "orders.json");
  writeFileSync(cfg, JSON.stringify({ store: { replicas: 3 }, actors: [{ name: "order-audit", handler: "email-handler" }] }));
  try {
    const up = await runJetbus([
      "cluster",
      "up",
      "--config",
      cfg,
      "--dir",
      clusterDir,
      "--port-base",
      String(await freePortBase()),
      "--detach",
      "--json",
    ]);
    assert.is(up.code, 0, up.stderr + up.stdout);
    const state = JSON.parse(up.stdout) as LocalClusterState;
    const accounts = readFileSync(join(clusterDir, "deploy", "accounts.conf"), "utf8");
    assert.match(accounts, /user: "order-audit"/, "the nodes run accounts for the config's actors");
    assert.not.match(accounts, /JETBUS_PASS_USER_HANDLER_1/, "not the checked-in seed accounts");
    const admin = /^JETBUS_PASS_ADMIN=(.*)$/m.exec(readFileSync(state.passwordsFile, "utf8"))![1]!;
    const nc = await connectNats({ servers: state.natsUrl, user: Users.admin, pass: admin, name: "test-admin" });
    try {
      await waitForJetStream(nc, 60_000);
      const jsm = await jetstreamManager(nc);
      assert.is((await jsm.streams.info("EVENTS")).config.num_replicas, 3, "provisioned at the config's 3 replicas");
      const bus = new EventBus(nc, { ackTimeoutMs: 2000 });
      for (let i = 0; i < 5; i++) await bus.publish("OrderPlaced", { n: i });

      const killed = state.nodes.find((n) => n.name === "nats-2")!;
      process.kill(killed.pid, "SIGKILL");
      await waitFor(() => !alive(killed.pid), "nats-2 gone", 10_000);
      for (let i = 5; i < 10; i++) await bus.publish("OrderPlaced", { n: i });
      await bus.close();

      const again = await runJetbus(["cluster", "up", "--config", cfg, "--dir", clusterDir, "--detach"]);
      assert.is(again.code, 1, again.stderr);
      assert.match(again.stderr, /nats-2 is not running: `jetbus cluster restart nats-2`/);

      const restart = await runJetbus(["cluster", "restart", "nats-2", "--dir", clusterDir]);
      assert.is(restart.code, 0, restart.stderr);
      const pid = Number(/^restarted nats-2 pid (\d+)/m.exec(restart.stdout)?.[1]);
      assert.ok(pid !== killed.pid && alive(pid), restart.stdout);
      const twice = await runJetbus(["cluster", "restart", "nats-2", "--dir", clusterDir]);
      assert.is(twice.code, 2, twice.stderr);
      assert.match(twice.stderr, /nats-2 is running/);

      const info = await waitCaughtUp(jsm, "EVENTS");
      assert.is(info.state.messages, 10, "every acknowledged event is there");
      const back = info.cluster!.leader === "nats-2" || info.cluster!.replicas!.some((r) => r.name === "nats-2" && r.current);
      assert.ok(back, `nats-2 leads or is a current replica again: ${JSON.stringify(info.cluster)}`);
    } finally {
      await nc.close();
    }
  } finally {
    await runJetbus(["cluster", "down", "--dir", clusterDir, "--purge"]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
