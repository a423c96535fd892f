import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { registerProcessMetrics } from "../../runtime/observability/process-metrics.ts";
import type { ConnectionState } from "../../runtime/nats/connection-state.ts";
import { REPO_ROOT } from "../helpers/cli.ts";

type Panel = { title: string; targets?: { expr: string }[] };

/** Every metric name a jetbus process registers (a histogram also exposes _bucket, _sum and _count). */
function exported(): Set<string> {
  const metrics = new Metrics();
  const connection = { connected: true, onChange: () => () => undefined } as unknown as ConnectionState;
  registerProcessMetrics(metrics, {
    connection,
    jsm: () => Promise.reject(new Error("no server in a unit test")) as Promise<JetStreamManager>,
  });
  const names = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    names.add(m.name);
    if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(m.name + s);
  }
  return names;
}

test("the Grafana dashboard queries only metrics jetbus exports, and uses them all", () => {
  const dash = JSON.parse(readFileSync(`${REPO_ROOT}/deploy/grafana/jetbus.json`, "utf8")) as { panels: Panel[]; uid: string };
  assert.is(dash.uid, "jetbus");
  const names = exported();
  const used = new Set<string>();
  for (const p of dash.panels) {
    assert.ok(p.targets?.length, `panel "${p.title}" queries something`);
    for (const t of p.targets!) {
      const refs = t.expr.match(/\bjetbus_[a-z_]+/g) ?? [];
      assert.ok(refs.length, `panel "${p.title}": ${t.expr} names a jetbus metric`);
      for (const r of refs) {
        assert.ok(
          names.has(r),
          `panel "${p.title}" queries ${r}, which jetbus does not export (exported: ${[...names].filter((n) => n.startsWith("jetbus_")).join(", ")})`,
        );
        used.add(r.replace(/_(bucket|sum|count)$/, ""));
      }
    }
  }
  const unused = [...names].filter((n) => n.startsWith("jetbus_") && !/_(bucket|sum|count)$/.test(n) && !used.has(n));
  assert.equal(unused, [], "every jetbus metric has a panel");
});

test.run();
