import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { configFrom, loadConfig } from "../../runtime/config/load.ts";
import { JetbusAccount, renderAccountsConf, roleUsers } from "../../runtime/cluster/permissions.ts";
import { defaultPorts, passwordVarsIn, renderLocalNodeConfig } from "../../runtime/cluster/local.ts";
import { withEnvironment } from "../../runtime/config/env.ts";
import { ConfigError } from "../../runtime/errors.ts";
import { findNatsServer } from "../../runtime/nats/binary.ts";
import { Streams } from "../../runtime/topology.ts";

const root = process.cwd();
const read = (p: string) => readFileSync(join(root, p), "utf8");
type Doc = Record<string, any>;
const yamlDocs = (p: string): Doc[] =>
  parseAllDocuments(read(p), { merge: true }).map((d) => {
    assert.equal(d.errors, [], `${p} parses`);
    return d.toJS() as Doc;
  });

const seed = loadConfig("jetbus.config.json");
const cluster = loadConfig("deploy/jetbus.cluster.json");
const accountsConf = read("deploy/cluster/accounts.conf");
const passwordVars = passwordVarsIn(accountsConf);
const help = spawnSync(process.execPath, ["bin/jetbus.js", "--help"], { encoding: "utf8", timeout: 60_000 });
const commands = new Set([...help.stdout.matchAll(/^  ([a-z][a-z-]*)\b/gm)].map((m) => m[1]!));
const compose = yamlDocs("deploy/compose.yaml")[0]!;
const k8s = ["router.yaml", "actors.yaml", "scaledobjects.yaml"].flatMap((f) => yamlDocs(`deploy/k8s/${f}`));
const deployments = k8s.filter((d) => d.kind === "Deployment");
const scaledObjects = k8s.filter((d) => d.kind === "ScaledObject");
/** The port containers serve /metrics and health on: the image's JETBUS_HTTP_PORT. */
const HTTP_PORT = Number(/^\s*JETBUS_HTTP_PORT=(\d+)/m.exec(read("deploy/Dockerfile"))?.[1]);
const NATS_IMAGE = /^nats:(\d+)\.(\d+)(-alpine)?$/;

test("jetbus --help lists the commands the assets run", () => {
  assert.is(help.status, 0, help.stderr);
  for (const c of ["router", "actor", "cluster", "check"])
    assert.ok(commands.has(c), `jetbus ${c} exists (have: ${[...commands].join(", ")})`);
});

test("deploy/jetbus.cluster.json: valid, R3 store, metrics port 0 (several processes on one machine), same actors and routes as jetbus.config.json", () => {
  assert.is(cluster.store.replicas, 3);
  assert.is(cluster.observability.http_port, 0);
  assert.is(HTTP_PORT, 9464, "containers fix the port through the image's JETBUS_HTTP_PORT");
  assert.equal(cluster.actors, seed.actors);
  assert.equal(cluster.routes, seed.routes);
});

test("deploy/cluster/accounts.conf is what `jetbus cluster accounts` generates for the config's actors", () => {
  const expected = renderAccountsConf(roleUsers(seed.actors, { eventsStream: seed.store.stream }));
  assert.ok(accountsConf === expected, "accounts.conf is stale: run `node bin/jetbus.js cluster accounts > deploy/cluster/accounts.conf`");
  assert.equal(
    passwordVars,
    roleUsers(seed.actors).map((u) => u.passwordVar),
  );
});

test("cluster configs: node1..3 include shared.conf, which includes accounts.conf and names every node in routes", () => {
  const shared = read("deploy/cluster/shared.conf");
  assert.match(shared, /include \.\/accounts\.conf/);
  assert.match(shared, /sync_interval: always/);
  for (let i = 1; i <= 3; i++) {
    const node = read(`deploy/cluster/node${i}.conf`);
    assert.match(node, new RegExp(`server_name: nats-${i}\\b`));
    assert.match(node, /include \.\/shared\.conf/);
    assert.match(shared, new RegExp(`nats-route://nats-${i}:6222`));
  }
});

test("nats-server accepts nats.conf, the node files and a local cluster's generated node config (sync_interval: always)", () => {
  const bin = findNatsServer(() => undefined);
  const t = spawnSync(bin, ["-t", "-c", "nats.conf"], { encoding: "utf8" });
  assert.is(t.status, 0, t.stderr + t.stdout);
  assert.match(read("nats.conf"), /store_dir: "\.\/\.jetbus\/nats"/);
  assert.match(read("nats.conf"), /listen: 127\.0\.0\.1:4222/);
  const env = { ...process.env, ...Object.fromEntries(passwordVars.map((v) => [v, "placeholder"])) };
  for (let i = 1; i <= 3; i++) {
    const r = spawnSync(bin, ["-t", "-c", `deploy/cluster/node${i}.conf`], { encoding: "utf8", env });
    assert.is(r.status, 0, r.stderr + r.stdout);
  }
  // `jetbus cluster up` overrides shared.conf's jetstream block: the durable setting must survive it
  const dir = mkdtempSync(join(tmpdir(), "jetbus-node-conf-"));
  try {
    const ports = [0, 1, 2].map((i) => defaultPorts(i, 30_000));
    const configFile = join(dir, "node1.conf");
    const local = renderLocalNodeConfig({
      nodeFile: join(root, "deploy/cluster/node1.conf"),
      configFile,
      ports: ports[0]!,
      peers: ports,
      storeDir: join(dir, "n1"),
    });
    assert.match(local, /jetstream \{[^}]*sync_interval: always/);
    writeFileSync(configFile, local);
    const r = spawnSync(bin, ["-t", "-c", configFile], { encoding: "utf8", env });
    assert.is(r.status, 0, r.stderr + r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("deploy assets run a current nats image, one tag everywhere, and carry no caveats for servers before the floor", () => {
  const composeImage = String(compose["x-nats-node"].image);
  const [, major, minor] = NATS_IMAGE.exec(composeImage)?.map(Number) ?? [];
  assert.ok(major === 2 && minor! >= 12, `compose runs nats 2.12 or newer: ${composeImage}`);
  const helm = (parse(read("deploy/k8s/nats-values.yaml")) as Doc).container.image;
  assert.is(`${helm.repository}:${helm.tag}`, composeImage, "the Helm values run the same image as compose");
  for (const f of [
    "deploy/cluster/shared.conf",
    "deploy/cluster/node1.conf",
    "deploy/cluster/node2.conf",
    "deploy/cluster/node3.conf",
    "deploy/k8s/nats-values.yaml",
    "deploy/compose.yaml",
  ]) {
    assert.not.match(
      read(f),
      /nats-server 2\.(9|10)\b|2\.10\+|2\.9 (does not|rejects)/,
      `${f} still speaks of servers older than the floor`,
    );
  }
  const clusterGuide = read("docs/guides/cluster.md");
  assert.match(clusterGuide, /^# Run a cluster$/m, "the cluster guide is where the README's docs map points");
  assert.not.match(clusterGuide, /2\.9 does not know|older than 2\.10/, "docs/guides/cluster.md: no sync_interval caveat for old servers");
});

test("JETBUS_HTTP_PORT overrides observability.http_port; anything but a port is a CONFIG_INVALID naming it", () => {
  const base = configFrom({});
  assert.is(withEnvironment(base, {}).observability.http_port, 0);
  assert.is(withEnvironment(base, { JETBUS_HTTP_PORT: "9464" }).observability.http_port, 9464);
  for (const bad of ["http", "-1", "70000", "94.6"]) {
    try {
      withEnvironment(base, { JETBUS_HTTP_PORT: bad });
      assert.unreachable(`JETBUS_HTTP_PORT=${bad} is refused`);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.match((err as Error).message, /JETBUS_HTTP_PORT/);
    }
  }
});

test("Dockerfile: node:20-slim, every COPY source exists, tsx is a runtime dependency, entrypoint is bin/jetbus.js", () => {
  const df = read("deploy/Dockerfile");
  assert.match(df, /^FROM node:20-slim$/m);
  // COPY --from=build copies out of the build stage, not from the repository
  const sources = [...df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  assert.ok(sources.length >= 5);
  for (const s of sources) assert.ok(existsSync(join(root, s)), `COPY source ${s} exists`);
  assert.match(df, /npm ci --omit=dev/);
  assert.match(df, /^RUN npm run build$/m, "the image runs the compiled CLI");
  assert.match(df, /^COPY --from=build \/app\/dist \.\/dist$/m);
  const pkg = JSON.parse(read("package.json"));
  assert.ok(pkg.dependencies.tsx, "tsx must be in dependencies: --omit=dev would drop it");
  assert.match(df, /^ENTRYPOINT \["node", "bin\/jetbus\.js"\]$/m);
  assert.match(df, new RegExp(`^EXPOSE ${HTTP_PORT}$`, "m"));
});

test("compose: 3 NATS nodes on the deploy/cluster files, router x2, every actor (email-handler x3), consistent ports and passwords", () => {
  const s = compose.services as Record<string, Doc>;
  for (let i = 1; i <= 3; i++) {
    const n = s[`nats-${i}`]!;
    assert.equal(n.command, ["-c", `/etc/nats/node${i}.conf`]);
    assert.ok(n.volumes.includes("./cluster:/etc/nats:ro"));
    assert.ok(existsSync(join(root, "deploy/cluster", `node${i}.conf`)));
    assert.equal(Object.keys(n.environment).sort(), [...passwordVars].sort(), "every password the accounts need, no more");
  }
  assert.is(s.router!.deploy.replicas, 2);
  assert.is(s.router!.command[0], "router");
  for (const a of seed.actors) {
    const svc = s[a.name];
    assert.ok(svc, `compose service for actor ${a.name}`);
    assert.equal(svc!.command.slice(0, 2), ["actor", a.name]);
    assert.is(svc!.environment.NATS_USER, a.name, "each actor connects as its own user");
  }
  assert.is(s["email-handler"]!.deploy.replicas, 3);
  for (const [name, svc] of Object.entries(s)) {
    if (name.startsWith("nats-")) continue;
    assert.ok(commands.has(svc.command[0]), `${name}: jetbus ${svc.command[0]} exists`);
    const cfg = svc.command[svc.command.indexOf("--config") + 1];
    assert.ok(existsSync(join(root, cfg)), `${name}: config ${cfg} exists`);
    assert.ok(svc.healthcheck.test.join(" ").includes(`:${HTTP_PORT}/healthz`), `${name}: health check on ${HTTP_PORT}`);
  }
  assert.is(compose["x-jetbus"].build.dockerfile, "deploy/Dockerfile");
  const example = read("deploy/env.example");
  for (const v of passwordVars) assert.match(example, new RegExp(`^${v}=[A-Za-z][A-Za-z0-9]*$`, "m"));
});

test("k8s: a Deployment with /healthz liveness and /readyz readiness on the metrics port for the router and every actor, a KEDA ScaledObject per actor", () => {
  const image = compose["x-jetbus"].image;
  const byName = new Map(deployments.map((d) => [d.metadata.name, d]));
  for (const name of ["router", ...seed.actors.map((a) => a.name)]) {
    const d = byName.get(`jetbus-${name}`);
    assert.ok(d, `Deployment jetbus-${name}`);
    const c = d!.spec.template.spec.containers[0];
    assert.is(c.image, image, "same image as compose");
    assert.is(
      c.env.find((e: Doc) => e.name === "JETBUS_HTTP_PORT")?.value,
      String(HTTP_PORT),
      "the pod serves on the port its probes call",
    );
    assert.ok(commands.has(c.args[0]), `jetbus ${c.args[0]} exists`);
    const port = c.ports.find((p: Doc) => p.name === c.livenessProbe.httpGet.port);
    assert.is(port.containerPort, HTTP_PORT);
    assert.is(c.livenessProbe.httpGet.path, "/healthz");
    assert.is(c.readinessProbe.httpGet.path, "/readyz");
    assert.is(c.readinessProbe.httpGet.port, c.livenessProbe.httpGet.port);
    const secretKey = c.env.find((e: Doc) => e.name === "NATS_PASSWORD").valueFrom.secretKeyRef.key;
    assert.ok(passwordVars.includes(secretKey), `${name}: password key ${secretKey} is one the accounts use`);
    assert.equal(d!.spec.selector.matchLabels, d!.spec.template.metadata.labels);
  }
  assert.is(byName.get("jetbus-router")!.spec.replicas, 2);
  for (const a of seed.actors) {
    const so = scaledObjects.find((x) => x.spec.scaleTargetRef.name === `jetbus-${a.name}`);
    assert.ok(so, `ScaledObject for ${a.name}`);
    const t = so!.spec.triggers[0];
    assert.is(t.type, "nats-jetstream");
    assert.equal(
      { account: t.metadata.account, stream: t.metadata.stream, consumer: t.metadata.consumer },
      { account: JetbusAccount, stream: Streams.Inbox, consumer: a.name },
    );
    assert.match(t.metadata.natsServerMonitoringEndpoint, /:8222$/);
    assert.ok(Number(t.metadata.lagThreshold) > 0);
  }
});

test("k8s NATS Helm values: 3-node JetStream cluster on file storage, sync always, and the same users and permissions as accounts.conf", () => {
  const v = parse(read("deploy/k8s/nats-values.yaml")) as Doc;
  assert.equal(v.config.cluster, { enabled: true, replicas: 3 });
  assert.is(v.config.jetstream.fileStore.enabled, true);
  assert.is(v.config.jetstream.merge.sync_interval, "always");
  const users = v.config.merge.accounts[JetbusAccount].users as Doc[];
  const expected = roleUsers(seed.actors);
  assert.equal(
    users.map((u) => u.user),
    expected.map((u) => u.user),
  );
  for (const [i, u] of users.entries()) {
    assert.is(u.password, `<< $${expected[i]!.passwordVar} >>`);
    assert.equal(u.permissions?.publish.allow, expected[i]!.publish);
    assert.equal(u.permissions?.subscribe.allow, expected[i]!.subscribe);
    assert.ok(v.container.env[expected[i]!.passwordVar], `container env provides ${expected[i]!.passwordVar}`);
  }
});

test("kubectl kustomize renders deploy/k8s (offline), when kubectl is installed", () => {
  const r = spawnSync("kubectl", ["kustomize", "deploy/k8s"], { encoding: "utf8", timeout: 60_000 });
  if (r.error) return console.log("SKIP: kubectl not installed");
  assert.is(r.status, 0, r.stderr);
  const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as Doc).kind);
  assert.is(kinds.filter((k) => k === "Deployment").length, seed.actors.length + 1);
  assert.is(kinds.filter((k) => k === "ScaledObject").length, seed.actors.length);
  assert.ok(readdirSync(join(root, "deploy/k8s")).includes("kustomization.yaml"));
  assert.ok(configFrom(JSON.parse(read("deploy/jetbus.cluster.json"))));
});

test.run();
