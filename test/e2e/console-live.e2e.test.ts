import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { openBrowser, screenshotDir, type HeadlessBrowser } from "../helpers/browser.ts";
import { waitFor } from "../helpers/wait.ts";
import { startConsoleDeployment, type ConsoleDeployment } from "../fixtures/console-deployment.ts";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { findSetAside, listSetAside, SetAsideKind } from "../../runtime/operations/set-aside.ts";

let d: ConsoleDeployment;
let b: HeadlessBrowser;
let mystery: { id: string } | undefined;
const shots = screenshotDir();

test.before(async () => {
  d = await startConsoleDeployment();
  b = await openBrowser();
});
test.after(async () => {
  await b?.close();
  await d?.stop();
});

const text = (selector: string) => b.page.locator(selector).first().textContent();

test("the flows graph shows every configured actor and rule from the live config revision", async () => {
  await b.page.goto(`${d.url}#/flows`);
  for (const a of ["billing", "audit", "fragile"]) await b.page.waitForSelector(`svg [data-node="actor:${a}"]`, { timeout: 20_000 });
  for (const r of ["orders", "jobs"]) assert.ok(await b.page.locator(`svg [data-node="rule:${r}"]`).count(), `rule ${r} drawn`);
  assert.ok(await b.page.locator(`svg [data-edge="rule:orders->actor:billing"]`).count(), "edge orders -> billing drawn");
  assert.ok(await b.page.locator(`svg [data-node="unrouted"]`).count(), "unrouted node drawn");
  assert.match((await text("#live-state")) ?? "", /live · revision 1/);
});

test("handled counts rise live after publishing, without reloading the page", async () => {
  await b.page.goto(`${d.url}#/actors`);
  const handled = `[data-actor="billing"] [data-field="handled-total"]`;
  await b.page.waitForSelector(handled, { timeout: 20_000 });
  assert.is(await text(handled), "0");
  const N = 20;
  for (let i = 0; i < N; i++) await d.bus.publish("OrderPlaced", { n: i }, { correlationId: "bulk" });
  // the page only receives server-sent snapshots: the number changes in place
  await b.page.waitForFunction((sel) => Number(document.querySelector(sel)?.textContent?.replace(/,/g, "")) >= 20, handled, {
    timeout: 30_000,
  });
  await b.page.waitForFunction(
    () => Number(document.querySelector(`[data-actor="audit"] [data-field="handled-total"]`)?.textContent) >= 20,
    undefined,
    { timeout: 30_000 },
  );
  assert.equal(b.errors, []);
  await b.page.screenshot({ path: join(shots, "actors.png") });
  // the same numbers on the graph's edges: 20 copies by rule "orders" to billing
  await b.page.goto(`${d.url}#/flows`);
  await b.page.waitForFunction(
    () => /· 20\b/.test(document.querySelector(`[data-edge="rule:orders->actor:billing"]`)?.textContent ?? ""),
    undefined,
    { timeout: 20_000 },
  );
  mystery = await d.bus.publish("Mystery", { n: 1 });
  await b.page.waitForFunction(() => /1 held/.test(document.querySelector(`[data-node="unrouted"]`)?.textContent ?? ""), undefined, {
    timeout: 20_000,
  });
  // steady traffic: the edges show a rate above zero while it flows
  let flowing = true;
  const traffic = (async () => {
    for (let i = 0; flowing; i++) {
      await d.bus.publish("OrderPlaced", { n: 1000 + i }, { correlationId: "steady" });
      await new Promise((r) => setTimeout(r, 50)); // pacing the traffic, not waiting for a result
    }
  })();
  try {
    await b.page.waitForFunction(
      () => /[1-9][\d.]*\/s/.test(document.querySelector(`[data-edge="rule:orders->actor:audit"]`)?.textContent ?? ""),
      undefined,
      { timeout: 20_000 },
    );
    // docs/guides/console.md's flows.png is the busier graph of console-flows.e2e.test.ts
  } finally {
    flowing = false;
    await traffic;
  }
});

test("actor settings read in the config's units, not milliseconds", async () => {
  await b.page.goto(`${d.url}#/actors`);
  // the settings line beside the actor's name and replica count
  const line = `[data-actor="billing"] .bar span.muted`;
  await b.page.waitForSelector(line, { timeout: 20_000 });
  const settings = (await text(line)) ?? "";
  // as `jetbus init` and the docs write them: backoff 100ms, ttl 24h, ack_wait 30s, timeout 5m
  for (const part of ["3 attempt(s), backoff 100ms", "idempotent (ttl 24h)", "ack_wait 30s", "timeout 5m"])
    assert.ok(settings.includes(part), `"${part}" in ${JSON.stringify(settings)}`);
  assert.not.match(settings, /\d{4,}/, "no raw milliseconds");
  assert.equal(b.errors, []);
});

test("an event found by its correlation id shows where it went and its causal trace", async () => {
  const root = await d.bus.publish("OrderPlaced", { n: 100, follow_up: "OrderBilled" }, { correlationId: "order-7" });
  // billing and audit each publish a follow-up; each follow-up goes to both again
  // the probe logs "end" before the worker writes the processed marker trace reads: wait for all six markers
  await waitFor(
    async () => ((await (await fetch(new URL("/api/trace?correlation=order-7", d.url))).json()) as { handled: number }).handled === 6,
    "six handlings recorded",
    30_000,
  );
  await b.page.goto(`${d.url}#/events`);
  await b.page.fill("#q-correlation", "order-7");
  await b.page.click("#search");
  // the list first shows the newest events; it is replaced by the answer to the search
  await b.page.waitForSelector(`[data-results="correlation=order-7"] tr[data-event-id="${root.id}"]`, { timeout: 20_000 });
  assert.is(await b.page.locator("tr[data-event-id]").count(), 3, "the order and its two follow-ups");
  await b.page.click(`tr[data-event-id="${root.id}"]`);
  await b.page.waitForSelector(`[data-route="billing"] .pill.ok`, { timeout: 20_000 });
  assert.match((await text(`[data-route="audit"]`)) ?? "", /handled/);
  await b.page.screenshot({ path: join(shots, "events.png") });
  await b.page.click(`[data-action="trace"]`);
  await b.page.waitForSelector(`[data-trace-event="${root.id}"]`, { timeout: 20_000 });
  assert.match((await text("[data-trace-summary]")) ?? "", /3 event\(s\), 6 handling\(s\), 0 dead letter\(s\)/);
  // the follow-ups hang under the order (their causationid), each handled by billing and audit
  assert.is(await b.page.locator(`[data-trace-event="${root.id}"] ul [data-trace-event]`).count(), 2);
  assert.is(await b.page.locator(`[data-trace-event="${root.id}"] > div [data-handled]`).count(), 2);
  await b.page.screenshot({ path: join(shots, "trace.png") });
  assert.equal(b.errors, []);
});

test("an event the router set aside says so: unrouted with its revision, quarantined with the reason", async () => {
  // a raw publish with data that breaks schemas/events/UserCreated.json: the router quarantines it
  const bad = await jetstream(d.env.nc).publish("events.UserCreated", JSON.stringify({ username: 42 }), { msgID: "bad-user-1" });
  // the page reads the detail once: wait until the router has set the event aside
  await waitFor(
    async () => (await findSetAside(d.env.nc, await jetstreamManager(d.env.nc), "EVENTS", { seqs: new Set([bad.seq]) })).length === 1,
    "the bad event quarantined",
    30_000,
  );
  await b.page.goto(`${d.url}#/events`);
  for (const [id, kind, text] of [
    ["bad-user-1", "quarantine", /quarantined by the router \(#\d+\): .*user_id/],
    [mystery!.id, "unrouted", /no rule of revision 1 matched/],
  ] as const) {
    await b.page.fill("#q-id", id);
    await b.page.click("#search");
    await b.page.waitForSelector(`[data-set-aside="${kind}"]`, { timeout: 30_000 });
    assert.match((await b.page.textContent(`[data-set-aside="${kind}"]`)) ?? "", text);
  }
  assert.ok(bad.seq > 0);
  // the quarantine list names it by its event id, as `jetbus quarantine list` does (not by the quarantine's own EVENTS:<seq> dedup id)
  const cli = await listSetAside(d.env.nc, await jetstreamManager(d.env.nc), SetAsideKind.Quarantine, "EVENTS");
  assert.equal(
    cli.map((q) => q.eventId),
    ["bad-user-1"],
  );
  await b.page.goto(`${d.url}#/held?kind=quarantine`);
  await b.page.waitForSelector(`tr[data-event-id="bad-user-1"]`, { timeout: 20_000 });
  assert.equal(
    await b.page.locator("tr[data-held-seq] td:nth-child(4)").allTextContents(),
    ["bad-user-1"],
    "the event column holds the event id",
  );
  await b.page.screenshot({ path: join(shots, "quarantined.png") });
  assert.equal(b.errors, []);
});

test.run();
