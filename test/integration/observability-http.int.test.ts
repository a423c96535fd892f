import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startRuntime } from "../../runtime/app/bootstrap.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { serveObservability } from "../../runtime/observability/http.ts";
import { createLogger } from "../../runtime/log.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

test("metrics, healthz and readyz are served and reflect the process", async () => {
  const { server, stop } = await startServer();
  const rt = await startRuntime({ config: configFrom({}), servers: server.url, logger: createLogger({ level: "silent", pretty: false }) });
  const http = await serveObservability(rt.metrics, rt.health, 0, "127.0.0.1");
  const base = `http://127.0.0.1:${http.port}`;
  try {
    assert.is((await fetch(`${base}/healthz`)).status, 200);
    assert.is((await fetch(`${base}/readyz`)).status, 200);

    let bound = false;
    rt.health.register("consumers", () => bound);
    const notReady = await fetch(`${base}/readyz`);
    assert.is(notReady.status, 503);
    assert.match(await notReady.text(), /consumers/);
    bound = true;
    assert.is((await fetch(`${base}/readyz`)).status, 200);

    rt.metrics.handlings.inc({ actor: "email-handler", type: "UserCreated", rule: "users", outcome: "handled" }, 3);
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /jetbus_handlings_total\{actor="email-handler",type="UserCreated",rule="users",outcome="handled"\} 3/);
    assert.match(text, /process_resident_memory_bytes/);

    await server.kill();
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, "readyz to report the lost connection");
    assert.is((await fetch(`${base}/healthz`)).status, 200, "alive even when disconnected");
    await server.restart();
    await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, "readyz after reconnect");
  } finally {
    await http.close();
    await rt.dispose();
    await stop();
  }
});

test.run();
