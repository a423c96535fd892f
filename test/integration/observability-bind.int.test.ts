import { test } from "uvu";
import * as assert from "uvu/assert";
import { networkInterfaces } from "node:os";
import { configFrom } from "../../runtime/config/load.ts";
import { withEnvironment } from "../../runtime/config/env.ts";
import { PortInUseError } from "../../runtime/errors.ts";
import { exitCodeFor, ExitCode } from "../../runtime/cli/exit.ts";
import { Health } from "../../runtime/observability/health.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import { serveObservability, urlOf } from "../../runtime/observability/http.ts";

/** A non-loopback IPv4 address of this machine, if it has one. */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

test("the metrics/health port listens on loopback unless observability.http_host (or JETBUS_HTTP_HOST) says otherwise", async () => {
  const config = configFrom({});
  assert.is(config.observability.http_host, "127.0.0.1");
  assert.is(withEnvironment(config, { JETBUS_HTTP_HOST: "0.0.0.0" }).observability.http_host, "0.0.0.0");
  const http = await serveObservability(new Metrics(), new Health(), 0, config.observability.http_host);
  try {
    assert.is(http.host, "127.0.0.1");
    assert.is((await fetch(urlOf(http, "/healthz"))).status, 200);
    const outside = outsideAddress();
    if (outside) {
      // what the issue found: the log said 127.0.0.1 while every interface answered
      const reached = await fetch(`http://${outside}:${http.port}/healthz`).then(
        () => true,
        () => false,
      );
      assert.not.ok(reached, `not reachable on ${outside}`);
    }
  } finally {
    await http.close();
  }
  const everywhere = await serveObservability(new Metrics(), new Health(), 0, "0.0.0.0");
  try {
    assert.is(urlOf(everywhere, "/metrics"), `http://127.0.0.1:${everywhere.port}/metrics`);
    const outside = outsideAddress();
    if (outside) assert.is((await fetch(`http://${outside}:${everywhere.port}/healthz`)).status, 200);
  } finally {
    await everywhere.close();
  }
});

test("a port in use names the setting to change (PORT_IN_USE, exit 2), not a bare EADDRINUSE", async () => {
  const first = await serveObservability(new Metrics(), new Health(), 0);
  try {
    const err = await serveObservability(new Metrics(), new Health(), first.port).then(
      (s) => (void s.close(), null),
      (e: unknown) => e,
    );
    assert.instance(err, PortInUseError);
    const e = err as PortInUseError;
    assert.match(e.message, `127.0.0.1:${first.port}: the port is in use`);
    assert.match(e.hint ?? "", "observability.http_port");
    assert.match(e.hint ?? "", "--no-http");
    assert.is(exitCodeFor(e), ExitCode.BadInput);
  } finally {
    await first.close();
  }
});

test.run();
