import { test } from "uvu";
import * as assert from "uvu/assert";
import { debianMirror } from "../../runtime/nats/provision.ts";
import { formatVersion, NATS_SERVER_FLOOR, parseVersion, versionAtLeast } from "../../runtime/nats/version.ts";

test("the floor admits 2.12 and later, refuses 2.9 to 2.11", () => {
  assert.is(formatVersion(NATS_SERVER_FLOOR), "2.12.0");
  for (const ok of ["2.12.0", "2.12.1", "2.15.1", "3.0.0"]) assert.ok(versionAtLeast(parseVersion(ok)!, NATS_SERVER_FLOOR), ok);
  for (const old of ["2.9.10", "2.10.27", "2.11.9", "1.99.99"]) assert.not.ok(versionAtLeast(parseVersion(old)!, NATS_SERVER_FLOOR), old);
  assert.equal(parseVersion("nats-server: v2.15.1"), [2, 15, 1]);
  assert.is(parseVersion("dev"), undefined);
});

test("the Debian mirror comes from deb822 sources, skipping the security archive", () => {
  const deb822 = [
    "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n",
    "Types: deb\n# a comment\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n",
  ].join("\n");
  assert.is(debianMirror([deb822]), "http://mirror.example/debian");
});

test("the Debian mirror comes from a one-line sources.list, options allowed", () => {
  const list =
    "# deb http://old/debian sid main\ndeb [signed-by=/k.gpg] http://ftp.example/debian bookworm main\ndeb http://security.debian.org/debian-security bookworm-security main\n";
  assert.is(debianMirror([list]), "http://ftp.example/debian");
  assert.is(debianMirror(["deb http://archive.ubuntu.com/ubuntu jammy main\n"]), undefined);
  assert.is(debianMirror([]), undefined);
});

test.run();
