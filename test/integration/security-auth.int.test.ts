import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";
import { randomBytes } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { connectNats, type ConnectOptions } from "../../runtime/nats/connect.ts";
import { NatsServer } from "../../runtime/nats/server.ts";

const dir = mkdtempSync(join(tmpdir(), "jetbus-auth-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts a server with `auth` config, connects with `client`, proves JetStream works over that connection. */
async function roundTrip(auth: string, client: Omit<ConnectOptions, "servers">, url = (s: NatsServer) => s.url): Promise<void> {
  const server = await NatsServer.start({ extraConfig: auth });
  try {
    const nc = await connectNats({ ...client, servers: url(server) });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "AUTH", subjects: ["auth.>"] });
      const ack = await jetstream(nc).publish("auth.ok", "x");
      assert.is(ack.seq, 1);
    } finally {
      await nc.close();
    }
  } finally {
    await server.stop();
  }
}

async function refused(auth: string, client: Omit<ConnectOptions, "servers">): Promise<string> {
  const server = await NatsServer.start({ extraConfig: auth });
  try {
    await connectNats({ ...client, servers: server.url }).then((nc) => nc.close());
  } catch (err) {
    return (err as Error).message;
  } finally {
    await server.stop();
  }
  assert.unreachable("connected without the right credentials");
  return "";
}

test("user and password (password read by nats-server from the environment)", async () => {
  process.env.JETBUS_TEST_PASS = "s3cret-pass";
  const auth = `authorization { users: [ { user: app, password: $JETBUS_TEST_PASS } ] }`;
  await roundTrip(auth, { user: "app", pass: "s3cret-pass" });
  assert.match(await refused(auth, { user: "app", pass: "nope" }), /Authorization Violation/i);
});

test("credentials from NATS_USER / NATS_PASSWORD win over the config (containers get secrets as env vars)", async () => {
  process.env.JETBUS_TEST_PASS = "env-pass-1";
  const auth = `authorization { users: [ { user: app, password: $JETBUS_TEST_PASS } ] }`;
  process.env.NATS_USER = "app";
  process.env.NATS_PASSWORD = "env-pass-1";
  try {
    await roundTrip(auth, { user: "config-user", pass: "config-pass" });
  } finally {
    delete process.env.NATS_USER;
    delete process.env.NATS_PASSWORD;
  }
});

test("token", async () => {
  const auth = `authorization { token: "tok-123456" }`;
  await roundTrip(auth, { token: "tok-123456" });
  assert.match(await refused(auth, { token: "other" }), /Authorization Violation/i);
});

test("NKey seed file", async () => {
  const kp = createUser();
  const seedFile = join(dir, "user.nk");
  writeFileSync(seedFile, new TextDecoder().decode(kp.getSeed()) + "\n", { mode: 0o600 });
  const auth = `authorization { users: [ { nkey: ${kp.getPublicKey()} } ] }`;
  await roundTrip(auth, { nkey_seed_file: seedFile });
  const stranger = createUser();
  const otherSeed = join(dir, "other.nk");
  writeFileSync(otherSeed, new TextDecoder().decode(stranger.getSeed()), { mode: 0o600 });
  assert.match(await refused(auth, { nkey_seed_file: otherSeed }), /Authorization Violation/i);
});

/** A NATS JWT signed by `issuer` (decentralised auth), built by hand: header.claims.ed25519-signature. */
function natsJwt(issuer: KeyPair, sub: string, name: string, nats: object): string {
  const b64 = (x: string | Uint8Array) => Buffer.from(x).toString("base64url");
  const header = b64(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }));
  const claims = b64(
    JSON.stringify({
      jti: randomBytes(16).toString("hex").toUpperCase(),
      iat: Math.floor(Date.now() / 1000),
      iss: issuer.getPublicKey(),
      name,
      sub,
      nats,
    }),
  );
  return `${header}.${claims}.${b64(issuer.sign(new TextEncoder().encode(`${header}.${claims}`)))}`;
}

function credsFile(file: string, account: KeyPair, user: KeyPair): string {
  const jwt = natsJwt(account, user.getPublicKey(), "app", { type: "user", version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
  const seed = new TextDecoder().decode(user.getSeed());
  writeFileSync(
    file,
    `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    { mode: 0o600 },
  );
  return file;
}

test(".creds file (operator mode: operator, system and JetStream account JWTs preloaded in a memory resolver)", async () => {
  const op = createOperator(),
    sys = createAccount(),
    account = createAccount();
  const open = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const opJwt = natsJwt(op, op.getPublicKey(), "jetbus-test", { type: "operator", version: 2, system_account: sys.getPublicKey() });
  const sysJwt = natsJwt(op, sys.getPublicKey(), "SYS", { type: "account", version: 2, limits: open });
  const accJwt = natsJwt(op, account.getPublicKey(), "JETBUS", {
    type: "account",
    version: 2,
    limits: { ...open, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
  });
  const auth = [
    `operator: ${opJwt}`,
    `system_account: ${sys.getPublicKey()}`,
    "resolver: MEMORY",
    `resolver_preload: { ${sys.getPublicKey()}: ${sysJwt}, ${account.getPublicKey()}: ${accJwt} }`,
  ].join("\n");
  await roundTrip(auth, { creds_file: credsFile(join(dir, "app.creds"), account, createUser()) });
  // a user signed by an account the operator never issued is refused
  assert.match(
    await refused(auth, { creds_file: credsFile(join(dir, "rogue.creds"), createAccount(), createUser()) }),
    /Authorization Violation/i,
  );
});

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

test("TLS with a private CA, server cert and a verified client cert", async () => {
  if (!hasOpenssl) {
    console.log("SKIP TLS test: openssl is not installed (apt-get install openssl)");
    return;
  }
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=jetbus-test-ca",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
  );
  writeFileSync(p("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const who of ["server", "client"]) {
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${who}`, "-keyout", p(`${who}.key`), "-out", p(`${who}.csr`));
    ssl(
      "x509",
      "-req",
      "-in",
      p(`${who}.csr`),
      "-CA",
      p("ca.pem"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      p("san.ext"),
      "-out",
      p(`${who}.pem`),
    );
  }
  const auth = `tls { cert_file: ${JSON.stringify(p("server.pem"))}, key_file: ${JSON.stringify(p("server.key"))}, ca_file: ${JSON.stringify(p("ca.pem"))}, verify: true }`;
  await roundTrip(auth, { tls: { ca: p("ca.pem"), cert: p("client.pem"), key: p("client.key") } }, (s) => `tls://127.0.0.1:${s.port}`);
  // without a client certificate the server (verify: true) refuses the handshake
  const server = await NatsServer.start({ extraConfig: auth });
  try {
    // the raw client, which gives up at once (connectNats would keep retrying, as a worker should)
    let failed = false;
    await connect({ servers: `tls://127.0.0.1:${server.port}`, tls: { caFile: p("ca.pem") }, reconnect: false })
      .then((nc) => nc.close())
      .catch(() => (failed = true));
    assert.ok(failed, "no client certificate, no connection");
  } finally {
    await server.stop();
  }
});

test("no secret is ever logged: a logged config shows [redacted] instead of pass, token and seeds", () => {
  const secrets = { pass: "hunter2-pass", token: "tok-very-secret", seed: "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY" };
  const script = `
    import { createLogger } from "./runtime/log.ts";
    const log = createLogger({ pretty: false });
    const nats = { servers: ["nats://127.0.0.1:4222"], user: "jetbus-router", pass: ${JSON.stringify(secrets.pass)}, token: ${JSON.stringify(secrets.token)}, nkey_seed: ${JSON.stringify(secrets.seed)}, nkey_seed_file: "/etc/jetbus/router.nk" };
    log.info(nats, "flat");
    log.info({ nats }, "nested");
    log.info({ config: { nats, store: { stream: "EVENTS" } } }, "whole config");
    log.info({ password: ${JSON.stringify(secrets.pass)} }, "password key");
    log.flush();
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: process.cwd(),
    encoding: "utf8",
    env: { ...process.env, JETBUS_LOG_JSON: "1" },
  });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stderr
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"));
  assert.is(lines.length, 4, r.stderr);
  for (const s of Object.values(secrets)) assert.not.ok(r.stderr.includes(s), `secret ${s.slice(0, 6)}... leaked: ${r.stderr}`);
  assert.ok(r.stderr.includes("[redacted]"));
  assert.ok(r.stderr.includes("jetbus-router"), "non-secret fields stay visible");
});

test.run();
