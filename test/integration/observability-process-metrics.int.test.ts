import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startRuntime } from "../../runtime/app/bootstrap.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createLogger } from "../../runtime/log.ts";
import { Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

test("process metrics: connection state, build info, and the deployment's quarantined and unrouted counts", async () => {
  const env = await startServer();
  const rt = await startRuntime({
    config: configFrom({}),
    servers: env.server.url,
    logger: createLogger({ level: "silent", pretty: false }),
  });
  let serverUp = true;
  try {
    const jsm = await jetstreamManager(env.nc);
    await jsm.streams.add({ name: Streams.Quarantine, subjects: ["quarantine.>"] });
    await jsm.streams.add({ name: Streams.Unrouted, subjects: ["unrouted.>"] });
    const js = jetstream(env.nc);
    await js.publish("quarantine.events.UserCreated", "{not json");
    await js.publish("quarantine.events.UserCreated", "{}");
    await js.publish("unrouted.OrderPlaced", "{}");

    const text = await rt.metrics.registry.metrics();
    assert.match(text, /^jetbus_nats_connected 1$/m);
    assert.match(
      text,
      new RegExp(
        `^jetbus_build_info\\{version="0\\.1\\.0",node="${process.versions.node.replace(/\./g, "\\.")}",nats_client="\\d+\\.\\d+\\.\\d+"\\} 1$`,
        "m",
      ),
    );
    assert.match(text, /^jetbus_quarantined_messages 2$/m);
    assert.match(text, /^jetbus_unrouted_messages 1$/m);

    await env.server.stop();
    serverUp = false;
    await waitFor(
      async () => /^jetbus_nats_connected 0$/m.test(await rt.metrics.registry.metrics()),
      "the gauge says disconnected",
      20_000,
    );
  } finally {
    await rt.dispose();
    if (serverUp) await env.stop();
    else await env.nc.close().catch(() => undefined);
  }
});

test.run();
