// Store ownership: one-shot commands use the store as they find it (and say once when it differs
// from their config); only `jetbus store apply` changes it, refusing data loss unless allowed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { connectNats, retryTransient } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { EventBus, ensureStore } from "../../runtime/store/mod.ts";
import { provisionStreams } from "../../runtime/cluster/provision.ts";
import { REPO_ROOT, runJetbus } from "../helpers/cli.ts";
import { spawnSync } from "node:child_process";
import { retryPlacement } from "../helpers/cluster-nodes.ts";
import { startCluster, startServer } from "../helpers/nats.ts";

/** The CLI on a pseudo-terminal (util-linux `script`), typing `input`: what a person at a shell sees. */
/**
 * Whether `script` can open a pseudo-terminal here. Every booted Linux has /dev/pts; a chroot that bind-mounts only
 * /dev (as ../shared/tools/fresh-machine does) has not, and `script` then fails "failed to create pseudo-terminal".
 */
const PTY = spawnSync("script", ["-qec", "true", "/dev/null"], { encoding: "utf8" });
const hasPty = PTY.status === 0;

function onTerminal(args: readonly string[], input: string): { status: number | null; stdout: string } {
  const command = ["node", "bin/jetbus.js", ...args].map((a) => `'${a}'`).join(" ");
  const r = spawnSync("script", ["-qec", command, "/dev/null"], {
    cwd: REPO_ROOT,
    input,
    encoding: "utf8",
    timeout: 90_000,
    env: { ...process.env, NATS_URL: "", FORCE_COLOR: "0", JETBUS_LOG_LEVEL: "warn" },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout };
}

const DIFFERS = /warning: stream EVENTS differs from the config/g;
const DAY_NS = 86_400 * 1e9;

function configFile(dir: string, name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

async function events(jsm: JetStreamManager): Promise<{ max_age: number; max_msgs: number; replicas: number; messages: number }> {
  const info = await retryTransient(() => jsm.streams.info("EVENTS"));
  return {
    max_age: info.config.max_age,
    max_msgs: info.config.max_msgs,
    replicas: info.config.num_replicas,
    messages: info.state.messages,
  };
}

test("the laptop-config purge: pub, get and history with store.max_age 2s leave the store untouched; pub and get say so once each", async () => {
  const { server, nc, stop } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-store-e2e-"));
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStore(jsm, configFrom({}).store);
    const bus = new EventBus(nc);
    const first = await bus.publish("UserCreated", { user_id: "a" });
    await bus.publish("UserCreated", { user_id: "b" });
    await bus.close();
    const laptop = configFile(dir, "laptop.json", { store: { max_age: "2s" } });
    const s = ["--servers", server.url, "--config", laptop];

    const pub = await runJetbus(["pub", "UserCreated", '{"user_id":"x"}', ...s]);
    assert.is(pub.code, 0, pub.stderr);
    assert.is(pub.stderr.match(DIFFERS)?.length, 1, pub.stderr);
    assert.match(pub.stderr, /store\.max_age: 0 \(forever\) -> 2s/);
    assert.match(pub.stderr, /jetbus store apply/);
    assert.equal(await events(jsm), { max_age: 0, max_msgs: -1, replicas: 1, messages: 3 }, "max_age untouched, nothing purged");

    // get opens the store twice (queries and the indexer): still one notice
    const get = await runJetbus(["get", first.id, "--json", ...s]);
    assert.is(get.code, 0, get.stderr);
    assert.is((JSON.parse(get.stdout) as { id: string }).id, first.id);
    assert.is(get.stderr.match(DIFFERS)?.length, 1, get.stderr);
    const history = await runJetbus(["history", "--json", ...s]);
    assert.is(history.code, 0, history.stderr);
    assert.is(history.stdout.trim().split("\n").length, 3);
    // history reads what is there with one request and compares nothing: no notice
    assert.not.match(history.stderr, DIFFERS);
    assert.is((await events(jsm)).max_age, 0);

    // the default config matches: no notice at all
    const plain = await runJetbus(["history", "--servers", server.url]);
    assert.is(plain.code, 0, plain.stderr);
    assert.not.match(plain.stderr, DIFFERS);
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store apply: a shrink is refused without --allow-data-loss (exit 2, nothing changed) and applied with it", async () => {
  const { server, nc, stop } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-store-e2e-"));
  try {
    const jsm = await jetstreamManager(nc);
    await provisionStreams(nc, configFrom({ store: { max_age: "1h" } }));
    const bus = new EventBus(nc);
    await bus.publish("UserCreated", { user_id: "a" });
    await bus.publish("UserCreated", { user_id: "b" });
    await bus.close();
    const shrink = configFile(dir, "shrink.json", { store: { max_age: "1h", max_msgs: 1 } });
    const s = ["--servers", server.url, "--config", shrink];

    const refused = await runJetbus(["store", "apply", "--yes", ...s]);
    assert.is(refused.code, 2, refused.stderr);
    assert.match(refused.stdout, /^EVENTS: change$/m);
    assert.match(refused.stdout, /store\.max_msgs: -1 -> 1 {2}DATA LOSS: deletes the oldest 1 of the 2 stored messages/);
    assert.match(refused.stderr, /^error \[DATA_LOSS\]: refused: .*nothing was changed/m);
    assert.match(refused.stderr, /EVENTS store\.max_msgs: deletes the oldest 1 of the 2 stored messages/);
    assert.match(refused.stderr, /--allow-data-loss/);
    assert.equal(await events(jsm), { max_age: 3600 * 1e9, max_msgs: -1, replicas: 1, messages: 2 }, "nothing changed");

    const allowed = await runJetbus(["store", "apply", "--yes", "--allow-data-loss", ...s]);
    assert.is(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /^applied: EVENTS, JETBUS_INDEX$/m);
    assert.equal(await events(jsm), { max_age: 3600 * 1e9, max_msgs: 1, replicas: 1, messages: 1 });

    const again = await runJetbus(["store", "apply", "--yes", ...s]);
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stdout, /^store: the server matches the config/);
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store apply: a longer max_age is applied with --yes, or after a yes on a terminal; without --yes and no terminal it only shows the diff", async () => {
  const { server, nc, stop } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-store-e2e-"));
  try {
    const jsm = await jetstreamManager(nc);
    await provisionStreams(nc, configFrom({ store: { max_age: "1h" } }));
    const bus = new EventBus(nc);
    await bus.publish("UserCreated", { user_id: "a" });
    await bus.close();
    const longer = configFile(dir, "longer.json", { store: { max_age: "30d" } });
    const s = ["--servers", server.url, "--config", longer];

    const shown = await runJetbus(["store", "apply", ...s]);
    assert.is(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /store\.max_age: 1h -> 30d$/m);
    assert.not.match(shown.stdout, /DATA LOSS/);
    assert.match(shown.stderr, /not applied: no terminal to confirm on; run again with --yes/);
    assert.is((await events(jsm)).max_age, 3600 * 1e9, "not applied without --yes");

    if (hasPty) {
      const declined = onTerminal(["store", "apply", ...s], "n\n");
      assert.is(declined.status, 0, declined.stdout);
      assert.match(declined.stdout, /apply these changes\? \[y\/N\]/);
      assert.match(declined.stdout, /not applied/);
      assert.is((await events(jsm)).max_age, 3600 * 1e9, "declined on the terminal: nothing changed");
    } else {
      console.warn(
        `store-apply: the terminal prompts are not checked here: ${PTY.stderr.trim() || "script cannot open a pseudo-terminal"}`,
      );
    }

    const applied = await runJetbus(["store", "apply", "--yes", ...s]);
    assert.is(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /^applied: EVENTS, JETBUS_INDEX$/m);
    assert.equal(await events(jsm), { max_age: 30 * DAY_NS, max_msgs: -1, replicas: 1, messages: 1 });

    if (hasPty) {
      const longest = configFile(dir, "longest.json", { store: { max_age: "60d" } });
      const accepted = onTerminal(["store", "apply", "--servers", server.url, "--config", longest], "y\n");
      assert.is(accepted.status, 0, accepted.stdout);
      assert.match(accepted.stdout, /store\.max_age: 30d -> 60d/);
      assert.match(accepted.stdout, /applied: EVENTS, JETBUS_INDEX/);
      assert.is((await events(jsm)).max_age, 60 * DAY_NS, "confirmed on the terminal: applied");
    }
  } finally {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store apply as a user without the right is a PERMISSION_DENIED naming the subject, not a config conflict", async () => {
  const server = await NatsServer.start({
    extraConfig: `authorization {
  users: [
    { user: admin, password: admin-secret }
    { user: reader, password: reader-secret, permissions: { publish: { allow: ["$JS.API.INFO", "$JS.API.STREAM.INFO.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
  ]
}`,
  });
  const nc = await connectNats({ servers: server.url, user: "admin", pass: "admin-secret", name: "test-admin" });
  const dir = mkdtempSync(join(tmpdir(), "jetbus-store-e2e-"));
  try {
    await provisionStreams(nc, configFrom({ store: { max_age: "1h" } }));
    const longer = configFile(dir, "longer.json", { store: { max_age: "30d" } });
    const run = await runJetbus(["store", "apply", "--yes", "--servers", server.url, "--config", longer], {
      NATS_USER: "reader",
      NATS_PASSWORD: "reader-secret",
    });
    assert.is(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /^error \[PERMISSION_DENIED\]: permission denied: change stream EVENTS \(the server refused this user a publish to "\$JS\.API\.STREAM\.UPDATE\.EVENTS"\)/m,
    );
    assert.not.match(run.stderr, /STORE_CONFLICT/);
    assert.is((await (await jetstreamManager(nc)).streams.info("EVENTS")).config.max_age, 3600 * 1e9);
  } finally {
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("on a 3-node cluster a plain pub with the default config leaves an R3 / 30-day store as it is", async () => {
  const { cluster, nc, stop } = await startCluster(3);
  try {
    const jsm = await jetstreamManager(nc);
    await retryPlacement(() => ensureStore(jsm, configFrom({ store: { replicas: 3, max_age: "30d" } }).store));
    const pub = await runJetbus(["pub", "UserCreated", '{"user_id":"x"}', "--servers", cluster.urls.join(",")]);
    assert.is(pub.code, 0, pub.stderr);
    assert.is(pub.stderr.match(DIFFERS)?.length, 1, pub.stderr);
    assert.match(pub.stderr, /store\.replicas: 3 -> 1/);
    assert.equal(await events(jsm), { max_age: 30 * DAY_NS, max_msgs: -1, replicas: 3, messages: 1 });
  } finally {
    await stop();
  }
});

test.run();
