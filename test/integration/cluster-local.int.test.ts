import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectNats, waitForJetStream } from "../../runtime/nats/connect.ts";
import { freePort } from "../../runtime/nats/server.ts";
import { alive, clusterDown, clusterUp, readState } from "../../runtime/cluster/local.ts";
import { Users } from "../../runtime/cluster/permissions.ts";
import { waitFor } from "../helpers/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "jetbus-local-cluster-"));
test.after(async () => {
  await clusterDown(dir, { graceMs: 2000 }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test("cluster up runs deploy/cluster node1..3 on loopback: reachable, R3 stream served; down stops every node", async () => {
  const ports = await Promise.all(
    [0, 1, 2].map(async () => ({ client: await freePort(), cluster: await freePort(), http: await freePort() })),
  );
  const state = await clusterUp({ dir, ports });
  assert.is(state.nodes.length, 3);
  assert.is(state.natsUrl.split(",").length, 3);
  assert.is(statSync(state.passwordsFile).mode & 0o777, 0o600, "local passwords are private to the user");
  const adminPass = /^JETBUS_PASS_ADMIN=(.*)$/m.exec(readFileSync(state.passwordsFile, "utf8"))?.[1];
  assert.ok(adminPass);

  const nc = await connectNats({ servers: state.natsUrl, user: Users.admin, pass: adminPass });
  try {
    await waitForJetStream(nc, 60_000);
    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => (await jsm.streams.add({ name: "R3CHECK", subjects: ["r3.>"], num_replicas: 3 })).config.num_replicas === 3,
      "R3 stream created",
      30_000,
    );
    const ack = await jetstream(nc).publish("r3.x", "replicated");
    assert.is(ack.seq, 1);
    const info = await waitFor(
      async () => {
        const i = await jsm.streams.info("R3CHECK");
        return i.cluster?.leader && (i.cluster.replicas ?? []).length === 2 && i.cluster.replicas!.every((r) => r.current) ? i : undefined;
      },
      "two current replicas besides the leader",
      30_000,
    );
    assert.is(info.cluster?.name, "jetbus", "cluster name from deploy/cluster/shared.conf");
    // the monitoring port of shared.conf is served (what compose and KEDA use)
    const health = await fetch(`http://127.0.0.1:${ports[0]!.http}/healthz`);
    assert.is(health.status, 200);
    // the role users of accounts.conf exist: a wrong password is refused
    const denied = await connectNats({ servers: state.natsUrl, user: Users.publisher, pass: "wrong" }).then(
      (c) => (c.close(), false),
      () => true,
    );
    assert.ok(denied);
  } finally {
    await nc.close();
  }

  const pids = state.nodes.map((n) => n.pid);
  // `jetbus cluster down` is the command a person runs
  const down = spawnSync(process.execPath, ["bin/jetbus.js", "cluster", "down", "--dir", dir], { encoding: "utf8", timeout: 60_000 });
  assert.is(down.status, 0, down.stderr);
  assert.match(down.stdout, /stopped 3 processes/);
  await waitFor(() => pids.every((p) => !alive(p)), "every node process gone", 20_000);
  assert.is(readState(dir), undefined, "state file removed");
  assert.ok(existsSync(join(dir, "n1")), "stores are kept without --purge");
});

test("cluster up refuses bad input before starting anything", () => {
  const r = spawnSync(process.execPath, ["bin/jetbus.js", "cluster", "up", "--port-base", "nope", "--dir", dir, "--detach"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /--port-base/);
});

test.run();
