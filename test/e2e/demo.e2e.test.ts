import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { docBlock } from "../helpers/doc-blocks.ts";

test("npm start's demo: the seed's lines from the real store, a handled table, exit 0; exactly what the README shows", async () => {
  const run = await runJetbus(["demo"]);
  assert.is(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, /^Found 1 UserCreated events$/m);
  assert.match(out, /^Found 3 events with correlation ID correlation-1$/m);
  // the seed's routing: UserCreated to three actors, the other two events to user-handler-1 and email-handler
  assert.match(out, /^event\s+user-handler-1\s+user-handler-2\s+email-handler$/m);
  assert.match(out, /^UserCreated\s+handled \(attempt 1\)\s+handled \(attempt 1\)\s+handled \(attempt 1\)$/m);
  assert.match(out, /^UserUpdated\s+handled \(attempt 1\)\s+-\s+handled \(attempt 1\)$/m);
  assert.match(out, /^UserDeleted\s+handled \(attempt 1\)\s+-\s+handled \(attempt 1\)$/m);
  assert.fixture(out.trimEnd(), docBlock("demo-output"), "the README's demo output (README: The demo)");
});

test("demo --servers --json on an existing server: seven handled deliveries, counts from that store", async () => {
  const env = await startServer();
  try {
    const run = await runJetbus(["demo", "--servers", env.server.url, "--json"]);
    assert.is(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as {
      createdCount: number;
      correlationCount: number;
      handled: Array<{ event: string; actor: string; attempts: number }>;
    };
    assert.is(report.createdCount, 1);
    assert.is(report.correlationCount, 3);
    assert.is(report.handled.length, 7);
    assert.equal(
      report.handled
        .filter((h) => h.event === "UserCreated")
        .map((h) => h.actor)
        .sort(),
      ["email-handler", "user-handler-1", "user-handler-2"],
    );
    const info = await (await jetstreamManager(env.nc)).streams.info("EVENTS");
    assert.is(info.state.messages, 3, "the demo stored its three events in the server it was pointed at");
  } finally {
    await env.stop();
  }
});

test.run();
