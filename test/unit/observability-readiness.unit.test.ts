import { test } from "uvu";
import * as assert from "uvu/assert";
import { Health, readinessGate } from "../../runtime/observability/health.ts";

test("a readiness gate is not ready while starting, ready once opened, and not ready again while draining", async () => {
  const health = new Health();
  const gate = readinessGate(health, "router");
  assert.equal(await health.notReady(), ["router"], "starting");
  gate.open();
  assert.equal(await health.notReady(), [], "running");
  gate.close();
  assert.equal(await health.notReady(), ["router"], "draining");
});

test("every part must be ready: one closed gate makes the process not ready", async () => {
  const health = new Health();
  const a = readinessGate(health, "actor");
  const b = readinessGate(health, "indexer");
  a.open();
  assert.equal(await health.notReady(), ["indexer"]);
  b.open();
  assert.equal(await health.notReady(), []);
});

test("a check that throws counts as not ready", async () => {
  const health = new Health();
  health.register("broken", () => {
    throw new Error("boom");
  });
  assert.equal(await health.notReady(), ["broken"]);
});

test.run();
