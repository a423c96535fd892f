import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { configFrom, startJetbus } from "../../runtime/mod.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/actor-modules/", import.meta.url));
let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => env?.stop());

test("startJetbus embeds router and actors in this process: a module actor handles a routed event, stop() ends it all", async () => {
  const config = configFrom({
    actors: [{ name: "greeter", module: "./define-actor.ts" }],
    routes: { rules: [{ name: "greet", match: { type: "Greeted", data: { prefix: { name: "a" } } }, to: ["greeter"] }] },
    observability: { log_level: "warn" },
  });
  const jetbus = await startJetbus({ config, servers: env.server.url, projectDir: FIXTURES, source: "embed-test" });
  const { seen } = (await import(`${FIXTURES}define-actor.ts`)) as { seen: string[] };
  try {
    await jetbus.bus.publish("Greeted", { name: "bob" });
    const { id } = await jetbus.bus.publish("Greeted", { name: "ada" });
    await waitFor(() => seen.includes("ada"), "the embedded actor handled the routed event");
    assert.not.ok(seen.includes("bob"), "the data predicate did not route bob");
    const stored = await waitFor(() => jetbus.store.findById(id), "the event indexed");
    assert.is(stored.event.source, "embed-test");
  } finally {
    await jetbus.stop();
  }
  assert.ok(env.nc.info, "the test's own connection is untouched");
  assert.is(jetbus.runtime.nc.isClosed(), true, "stop() closed the embedded runtime's connection");
});

test.run();
