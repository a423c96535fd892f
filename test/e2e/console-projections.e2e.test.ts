import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openBrowser, screenshotDir, type HeadlessBrowser } from "../helpers/browser.ts";
import { startServer } from "../helpers/nats.ts";
import { consoleUrlOf } from "../fixtures/console-deployment.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { EventBus } from "../../runtime/store/mod.ts";

const fixture = (f: string) => fileURLToPath(new URL(`../fixtures/projection-modules/${f}`, import.meta.url));

let env: Awaited<ReturnType<typeof startServer>>;
let up: JetbusProcess | undefined;
let b: HeadlessBrowser | undefined;
let url = "";
const shots = screenshotDir();

test.before(async () => {
  env = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-console-projections-"));
  const config = {
    projections: [
      { name: "balances", module: fixture("balances.ts") },
      { name: "poisoned", module: fixture("poisoned.ts") },
    ],
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

test("the Projections view shows each projection's version, position and lag: one caught up, one stalled on the event its evolve refuses", async () => {
  const bus = new EventBus(env.nc, { source: "console-projections-test" });
  let last = 0;
  for (let i = 0; i < 30; i++)
    last = (await bus.publish(i % 3 ? "Deposited" : "Withdrawn", { account: `acct-${i % 4}`, amount: 10 + i })).seq;
  const poison = await bus.publish("Deposited", { account: "acct-9", amount: 1, poison: true });
  for (let i = 0; i < 5; i++) last = (await bus.publish("Deposited", { account: "acct-1", amount: 1 })).seq;
  await bus.close();
  await b!.page.goto(`${url}#/projections`);
  const cell = (p: string, n: number) => `[data-projection="${p}"] td:nth-child(${n})`;
  await b!.page.waitForFunction(
    ([sel, pos]) => document.querySelector(sel[0])?.textContent === "caught up" && document.querySelector(sel[1])?.textContent === pos,
    [[`${cell("balances", 5)} .pill`, cell("balances", 3)], last.toLocaleString("en")] as const,
    { timeout: 60_000 },
  );
  assert.is(await b!.page.textContent(cell("balances", 4)), "0", "balances: no lag");
  assert.is(await b!.page.textContent(cell("balances", 2)), "1");
  await b!.page.waitForFunction(
    (sel) => /^stalled at store sequence/.test(document.querySelector(sel)?.textContent ?? ""),
    `${cell("poisoned", 5)} .pill`,
    {
      timeout: 60_000,
    },
  );
  const state = (await b!.page.textContent(`${cell("poisoned", 5)} .pill`)) ?? "";
  assert.match(state, new RegExp(`stalled at store sequence ${poison.seq}: cannot apply`));
  // the refused event and the five after it: Deposited events the poisoned projection reads. The lag is what the
  // runner last reported with its presence heartbeat (projection/status.ts, countLag false), so the stall can be drawn before the report that counts all six (a full
  // npm test saw 0 here once): wait for it, then check it stays the count of the events behind the stall
  await b!.page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute("data-lag") === "6", cell("poisoned", 4), {
    timeout: 30_000,
  });
  assert.match((await b!.page.textContent(cell("poisoned", 7))) ?? "", /version 1 · position/);
  await b!.page.screenshot({ path: join(shots, "projections.png") });
  assert.equal(b!.errors, []);
});

test.run();
