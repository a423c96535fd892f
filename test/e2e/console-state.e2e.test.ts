import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openBrowser, screenshotDir, type HeadlessBrowser } from "../helpers/browser.ts";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { consoleUrlOf } from "../fixtures/console-deployment.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { EventBus } from "../../runtime/store/mod.ts";

const runtimeMod = fileURLToPath(new URL("../../runtime/mod.ts", import.meta.url));
// state = events seen per key
const counterModule = `import { defineActor } from ${JSON.stringify(runtimeMod)};
export default defineActor({
  state: { key: "data.key", initial: { n: 0 } },
  async handle(event, ctx) {
    ctx.state.set({ n: ctx.state.get().n + 1 });
  },
});
`;
/** Events per key: each key's count is different, so a row showing another key's count fails. */
const COUNTS = { apple: 3, "pear/2": 5, plum: 7 } as const;

let env: Awaited<ReturnType<typeof startServer>>;
let up: JetbusProcess | undefined;
let b: HeadlessBrowser | undefined;
let url = "";
const shots = screenshotDir();
/** The id of the last event published per key: the one that last changed it. */
const lastEvent = new Map<string, string>();
const allEvents = new Map<string, string[]>();

test.before(async () => {
  env = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-console-state-"));
  writeFileSync(join(dir, "counter.ts"), counterModule);
  const config = {
    actors: [
      { name: "counter", module: "./counter.ts", ordered: { key: "data.key", partitions: 2 } },
      { name: "plain", handler: "noop" },
    ],
    routes: { rules: [{ name: "counted", match: { type: "Counted" }, to: ["counter", "plain"] }] },
    observability: { log_level: "info" },
  };
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(configFile, JSON.stringify(config));
  up = spawnJetbus("up", ["up", "--servers", env.server.url, "--config", configFile], { JETBUS_LOG_LEVEL: "info" });
  url = await consoleUrlOf(up);
  b = await openBrowser();
});
test.after(async () => {
  await b?.close();
  if (up) await stopAll([up]);
  await env?.stop();
});

test("after the counter handles its events, the Actors view shows each key with its count, revision and last event", async () => {
  const bus = new EventBus(env.nc, { source: "console-state-test" });
  const max = Math.max(...Object.values(COUNTS));
  for (let i = 0; i < max; i++)
    for (const [key, n] of Object.entries(COUNTS)) {
      if (i >= n) continue;
      const e = await bus.publish("Counted", { key });
      lastEvent.set(key, e.id);
      allEvents.set(key, [...(allEvents.get(key) ?? []), e.id]);
    }
  await b!.page.goto(`${url}#/actors`);
  // the page reads /api/state on its own (no reload): every key shows its final count
  for (const [key, n] of Object.entries(COUNTS))
    await b!.page.waitForFunction(
      ([k, text]) => document.querySelector(`[data-state="counter"] [data-state-key="${k}"] [data-field="state"]`)?.textContent === text,
      [key, JSON.stringify({ n })] as const,
      { timeout: 60_000 },
    );
  // the same figures the CLI's reads give: revision and the event that last changed the key
  const store = await StateStore.bind(env.nc, "counter");
  for (const key of Object.keys(COUNTS)) {
    const row = `[data-state="counter"] [data-state-key="${key}"]`;
    assert.is(await b!.page.textContent(`${row} [data-field="revision"]`), String((await store.read(key)).revision), `${key} revision`);
    assert.is(await b!.page.textContent(`${row} [data-field="event"]`), lastEvent.get(key), `${key} last event`);
  }
  assert.match((await b!.page.textContent(`[data-state="counter"] [data-field="state-total"]`)) ?? "", /^3 key\(s\)/);
  // an actor without state has no state section
  assert.is(await b!.page.locator(`[data-actor="plain"]`).count(), 1);
  assert.is(await b!.page.locator(`[data-state="plain"]`).count(), 0);
  assert.equal(b!.errors, []);
});

test("clicking a key shows its history: every revision with the event that made it, newest first", async () => {
  const key = "pear/2";
  // on the key's name: the row's event id is a link to the Events view
  await b!.page.click(`[data-state="counter"] [data-state-key="${key}"] [data-field="key"]`);
  const rows = `[data-state="counter"] [data-history="${key}"] tr[data-revision]`;
  await b!.page.waitForFunction((sel) => document.querySelectorAll(sel).length === 5, rows, { timeout: 30_000 });
  const states = await b!.page.locator(`${rows} [data-field="state"]`).allTextContents();
  assert.equal(
    states,
    [5, 4, 3, 2, 1].map((n) => JSON.stringify({ n })),
  );
  const events = await b!.page.locator(`${rows} [data-field="event"]`).allTextContents();
  assert.equal(events, [...allEvents.get(key)!].reverse());
  assert.ok(await b!.page.locator(`[data-state-key="${key}"].on`).count(), "the open key's row is marked");
  await b!.page.screenshot({ path: join(shots, "state.png") });
  // the event that made the newest revision opens in the Events view
  await b!.page.click(`${rows} [data-field="event"] a >> nth=0`);
  await b!.page.waitForSelector(
    `[data-results="id=${encodeURIComponent(lastEvent.get(key)!)}"] tr[data-event-id="${lastEvent.get(key)}"]`,
    {
      timeout: 30_000,
    },
  );
  assert.equal(b!.errors, []);
});

test("GET /api/state answers what `jetbus state list --json` prints; bad input is a 400 naming it", async () => {
  const api = (await (await fetch(new URL("/api/state?actor=counter", url))).json()) as {
    stateful: boolean;
    total: number;
    keys: Array<Record<string, unknown>>;
  };
  assert.ok(api.stateful);
  assert.is(api.total, 3);
  const cli = await runJetbus(["state", "list", "counter", "--json", "--servers", env.server.url]);
  assert.is(cli.code, 0, cli.stderr);
  assert.equal(
    cli.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>),
    api.keys.map((k) => ({ actor: "counter", ...k })),
  );
  assert.equal(
    api.keys.map((k) => [k.key, k.state]),
    Object.entries(COUNTS).map(([k, n]) => [k, { n }]),
  );
  const plain = await fetch(new URL("/api/state?actor=plain", url));
  assert.equal(await plain.json(), { actor: "plain", stateful: false });
  const bad = await fetch(new URL("/api/state?actor=No.Such", url));
  assert.is(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /actor must be an actor name.*"No\.Such"/);
  const missing = await fetch(new URL("/api/state?actor=counter&key=never", url));
  assert.is(missing.status, 404);
  // nothing but GET: the state is read-only here
  assert.is((await fetch(new URL("/api/state?actor=counter", url), { method: "POST", body: "{}" })).status, 405);
});

test.run();
