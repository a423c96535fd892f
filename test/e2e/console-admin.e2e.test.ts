import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { networkInterfaces } from "node:os";
import { openBrowser, screenshotDir, type HeadlessBrowser } from "../helpers/browser.ts";
import { waitFor } from "../helpers/wait.ts";
import { consoleUrlOf, startConsoleDeployment, type ConsoleDeployment } from "../fixtures/console-deployment.ts";
import { spawnJetbus } from "../fixtures/jetbus-process.ts";
import { fixEvent, readLog } from "../fixtures/probe-handler.ts";
import { listDeadLetters } from "../../runtime/actor/dead-letter.ts";
import { ConfigStore } from "../../runtime/routing/config-store.ts";
import { listSetAside, SetAsideKind } from "../../runtime/operations/set-aside.ts";
import { jetstreamManager } from "@nats-io/jetstream";

const TOKEN = "console-test-token-0123456789";
let d: ConsoleDeployment;
let b: HeadlessBrowser;
/** `jetbus console` alone, with the admin token, against the same deployment. */
let standalone: string;
let stray: { id: string } | undefined;
const shots = screenshotDir();

test.before(async () => {
  // every interface, as in a container (JETBUS_HTTP_HOST; jetbus listens on loopback by default), for the remote-client test below
  d = await startConsoleDeployment({ JETBUS_HTTP_HOST: "0.0.0.0" });
  const alone = spawnJetbus("console", ["console", "--servers", d.env.server.url, "--config", d.configFile, "--port", "0", "--json"], {
    JETBUS_CONSOLE_TOKEN: TOKEN,
  });
  d.processes.push(alone);
  standalone = await consoleUrlOf(alone);
  b = await openBrowser();
});
test.after(async () => {
  await b?.close();
  await d?.stop();
});

const post = (base: string, path: string, body: unknown, token?: string) =>
  fetch(new URL(path, base), {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

test("changes need the admin token: 403 when none is configured, 401 without it, 403 with a wrong one", async () => {
  assert.is((await post(d.url, "/api/config/rollback", { revision: 1 })).status, 403, "jetbus up has no token configured: read-only");
  assert.is((await post(standalone, "/api/config/rollback", { revision: 1 })).status, 401);
  assert.is((await post(standalone, "/api/config/rollback", { revision: 1 }, "wrong-token-wrong-token")).status, 403);
  // reading needs nothing
  const cluster = (await (await fetch(new URL("/api/cluster", standalone))).json()) as {
    servers: { name: string }[];
    streams: { name: string; leader: string | null }[];
    systemAccount: boolean;
  };
  assert.ok(cluster.servers.length >= 1);
  assert.ok(cluster.streams.some((s) => s.name === "EVENTS"));
  assert.is(cluster.systemAccount, false, "the test server has no system account user: degraded to the connection's view");
});

test("a dead letter is replayed from the page", async () => {
  const dead = await d.bus.publish("Job", { n: 1, fail_until_fixed: true }, { correlationId: "job-1" });
  await waitFor(
    async () => (await listDeadLetters(d.env.nc, { actor: "fragile" })).some((x) => x.eventId === dead.id),
    "the job dead-lettered",
    30_000,
  );
  await b.page.goto(`${standalone}#/held?kind=dlq`);
  const row = `tr[data-event-id="${dead.id}"]`;
  await b.page.waitForSelector(row, { timeout: 20_000 });
  // without the token typed in, the page is refused and nothing moves
  await b.page.check(`${row} input[type=checkbox]`);
  await b.page.click("#replay-selected");
  await b.page.waitForSelector(".msg.bad", { timeout: 20_000 });
  assert.match((await b.page.textContent(".msg.bad")) ?? "", /admin token/);
  assert.is((await listDeadLetters(d.env.nc, { actor: "fragile" })).length, 1);
  // the bug is fixed; the operator types the token and replays
  await fixEvent(d.env.nc, dead.id);
  await b.page.fill("#token", TOKEN);
  await b.page.dispatchEvent("#token", "change");
  assert.is(await b.page.locator("[data-needs-token]").count(), 0, "the 'not allowed' note goes once a token is typed");
  await b.page.waitForSelector(row, { timeout: 20_000 });
  await b.page.check(`${row} input[type=checkbox]`);
  // the dead letter with its error, selected, before it is replayed
  await b.page.screenshot({ path: join(shots, "dead-letters.png") });
  await b.page.click("#replay-selected");
  await b.page.waitForSelector(`[data-replayed="1"]`, { timeout: 20_000 });
  await b.page.waitForSelector(`[data-empty="dlq"]`, { timeout: 20_000 });
  await waitFor(
    async () => (await readLog(d.env.nc)).some((l) => l.eventId === dead.id && l.phase === "end"),
    "the replayed job handled",
    30_000,
  );
  assert.is((await listDeadLetters(d.env.nc, { actor: "fragile" })).length, 0);
  assert.equal(b.errors, []);
});

test("a bad config edit shows its JSON path and is not applied; a good one is, with its diff", async () => {
  const store = await ConfigStore.open(d.env.nc);
  const before = (await store.history()).length;
  await b.page.goto(`${standalone}#/config`);
  await b.page.waitForSelector(`tr[data-revision]`, { timeout: 20_000 });
  await b.page.waitForFunction(() => (document.querySelector("#config-text") as HTMLTextAreaElement).value.includes("billing"), undefined, {
    timeout: 20_000,
  });
  const current = JSON.parse(await b.page.inputValue("#config-text"));
  current.actors[0].retry.max_attempts = 0;
  current.routes.rules[1].to = ["nobody"];
  await b.page.fill("#config-text", JSON.stringify(current, null, 2));
  await b.page.click("#config-apply");
  await b.page.waitForSelector(`[data-path="actors[0].retry.max_attempts"]`, { timeout: 20_000 });
  assert.match((await b.page.textContent("[data-problems]")) ?? "", /nothing was applied/);
  await b.page.screenshot({ path: join(shots, "config.png") });
  assert.is((await store.history()).length, before, "no revision was stored");
  // fixed: the schema passes, then the semantic check names the unknown actor
  current.actors[0].retry.max_attempts = 4;
  await b.page.fill("#config-text", JSON.stringify(current, null, 2));
  await b.page.click("#config-validate");
  await b.page.waitForSelector(`[data-path="routes.rules[1].to[0]"]`, { timeout: 20_000 });
  current.routes.rules[1].to = ["fragile", "audit"];
  // an event no rule matches yet; the new revision adds a rule for its type (replayed in the next test)
  stray = await d.bus.publish("Stray", { n: 7 });
  await waitFor(
    async () =>
      (await listSetAside(d.env.nc, await jetstreamManager(d.env.nc), SetAsideKind.Unrouted, "EVENTS")).some(
        (u) => u.eventId === stray!.id,
      ),
    "the stray event unrouted",
    30_000,
  );
  current.routes.rules.push({ name: "strays", match: { type: "Stray" }, to: ["audit"] });
  await b.page.fill("#config-text", JSON.stringify(current, null, 2));
  await b.page.click("#config-apply");
  await b.page.waitForSelector(`[data-applied]`, { timeout: 20_000 });
  const after = await store.history();
  assert.is(after.length, before + 1);
  assert.equal(after.at(-1)!.config.routes.rules[1]!.to, ["fragile", "audit"]);
  await b.page.waitForSelector(`[data-diff] .add`, { timeout: 20_000 });
  assert.match((await b.page.textContent("[data-diff]")) ?? "", /\+\s+"audit"/);
  assert.equal(b.errors, []);
});

test("an unrouted event is routed again from the page with the rules applied since", async () => {
  await b.page.goto(`${standalone}#/held?kind=unrouted`);
  const row = `tr[data-event-id="${stray!.id}"]`;
  await b.page.waitForSelector(row, { timeout: 20_000 });
  assert.match((await b.page.textContent(row)) ?? "", /no rule matched \(revision 1\)/);
  await b.page.check(`${row} input[type=checkbox]`);
  await b.page.click("#replay-selected");
  await b.page.waitForSelector(`[data-replayed="1"]`, { timeout: 20_000 });
  assert.match((await b.page.textContent("[data-replayed]")) ?? "", /routed → audit/);
  await waitFor(
    async () => (await readLog(d.env.nc)).some((l) => l.eventId === stray!.id && l.actor === "audit" && l.phase === "end"),
    "audit handled the stray event",
    30_000,
  );
  await b.page.waitForSelector(`[data-empty="unrouted"]`, { timeout: 20_000 });
});

test("jetbus router serves the console beside /metrics too", async () => {
  const router = spawnJetbus("router", ["router", "--servers", d.env.server.url, "--config", d.configFile, "--no-indexer", "--json"]);
  d.processes.push(router);
  const url = await consoleUrlOf(router);
  const page = await fetch(url);
  assert.is(page.status, 200);
  assert.match(await page.text(), /<title>jetbus console<\/title>/);
  const session = (await (await fetch(new URL("/api/session", url))).json()) as { adminConfigured: boolean };
  assert.is(session.adminConfigured, false);
  assert.is((await fetch(new URL("/metrics", url))).status, 200);
  router.child.kill("SIGTERM");
  assert.is((await router.exited).code, 0, "stops cleanly with a console open on its port");
});

test("on the shared HTTP port the console answers loopback clients only; /metrics answers everyone", async () => {
  // jetbus up listens on every interface here (JETBUS_HTTP_HOST above): reach it through this machine's own non-loopback address
  const address = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === "IPv4")?.address;
  assert.ok(address, "the test machine has a non-loopback IPv4 address");
  const port = new URL(d.url).port;
  assert.is((await fetch(`http://127.0.0.1:${port}/api/session`)).status, 200);
  const remote = await fetch(`http://${address}:${port}/api/session`);
  assert.is(remote.status, 403);
  assert.match(await remote.text(), /loopback clients only/);
  assert.is((await fetch(`http://${address}:${port}/`)).status, 403);
  assert.is((await fetch(`http://${address}:${port}/metrics`)).status, 200);
});

test.run();
