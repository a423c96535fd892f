import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NatsServerMissingError, NatsServerTooOldError } from "../../runtime/errors.ts";
import { findNatsServer, localBinDirs, natsServerVersion } from "../../runtime/nats/binary.ts";
import { connectNats } from "../../runtime/nats/connect.ts";
import { installDebianNatsServer } from "../../runtime/nats/provision.ts";
import { NatsServer } from "../../runtime/nats/server.ts";
import { formatVersion, NATS_SERVER_FLOOR, versionAtLeast } from "../../runtime/nats/version.ts";

// Debian stable's own package (bookworm: 2.9.10) is the old server users have: fetched once the
// same private way jetbus fetches the current one, and kept beside the installed binary.
const canApt = existsSync("/usr/bin/apt-get") && existsSync("/usr/bin/dpkg-deb");
const oldDir = join(localBinDirs()[0]!, "bookworm");

function oldServer(): string {
  const bin = join(oldDir, "nats-server");
  if (existsSync(bin)) return bin;
  mkdirSync(oldDir, { recursive: true });
  return installDebianNatsServer(oldDir, () => undefined, "bookworm");
}

test("jetbus finds a nats-server at or above its floor (installing Debian's current one when none is found)", () => {
  const bin = findNatsServer(() => undefined);
  assert.ok(versionAtLeast(natsServerVersion(bin), NATS_SERVER_FLOOR), `${bin} is ${formatVersion(natsServerVersion(bin))}`);
});

test("installing from Debian's development suite brings a server at or above the floor, into the given folder only", () => {
  if (!canApt) return console.log("skipped: no apt-get/dpkg-deb on this machine");
  const dir = mkdtempSync(join(tmpdir(), "jetbus-install-"));
  try {
    const bin = installDebianNatsServer(dir, () => undefined);
    assert.is(bin, join(dir, "nats-server"));
    assert.ok(versionAtLeast(natsServerVersion(bin), NATS_SERVER_FLOOR));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("NATS_SERVER_BIN naming a server older than the floor is refused, naming both versions", () => {
  if (!canApt) return console.log("skipped: no apt-get/dpkg-deb on this machine");
  const old = oldServer();
  const saved = process.env.NATS_SERVER_BIN;
  process.env.NATS_SERVER_BIN = old;
  try {
    assert.throws(
      () => findNatsServer(() => undefined),
      (e: unknown) => e instanceof NatsServerMissingError && /2\.9\.\d+, older than 2\.12\.0/.test((e as Error).message),
    );
  } finally {
    if (saved === undefined) delete process.env.NATS_SERVER_BIN;
    else process.env.NATS_SERVER_BIN = saved;
  }
});

test("connecting to a running server older than the floor is a typed error naming both versions", async () => {
  if (!canApt) return console.log("skipped: no apt-get/dpkg-deb on this machine");
  const server = await NatsServer.start({ bin: oldServer() });
  try {
    const err = await connectNats({ servers: server.url }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.instance(err, NatsServerTooOldError);
    assert.match((err as Error).message, /runs nats-server 2\.9\.\d+; jetbus needs 2\.12\.0 or later/);
  } finally {
    await server.stop();
  }
});

test.run();
