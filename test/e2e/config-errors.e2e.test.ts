// Config problems are reported together, with "did you mean", and every hint fits the command it follows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";

const dir = mkdtempSync(join(tmpdir(), "jetbus-config-errors-"));
const write = (name: string, doc: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
};

let env: Awaited<ReturnType<typeof startServer>> | undefined;
test.after(async () => {
  await env?.stop();
});

test("config validate lists schema, semantic and handler problems in one run, each with its path and the nearest key or name", async () => {
  const file = write("broken.json", {
    observability: { loglevel: "debug" },
    actors: [
      { name: "user-handler-1", handler: "user-handler" },
      { name: "order-audit", handler: "user-handler" },
      { name: "mailer", handler: "emial-handler" },
      { name: "billing", handler: "user-handler", retries: 3 },
    ],
    routes: { rules: [{ match: { type: "Order*" }, to: ["order-audti"] }] },
  });
  const r = await runJetbus(["config", "validate", file]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error \[CONFIG_INVALID\]: invalid config .*broken\.json \(4 problems\):/);
  assert.match(r.stderr, /  actors\[3\]\.retries: unknown key \(not allowed here\); did you mean "retry"\?/);
  assert.match(r.stderr, /  observability\.loglevel: unknown key \(not allowed here\); did you mean "log_level"\?/);
  assert.match(r.stderr, /  routes\.rules\[0\]\.to\[0\]: unknown actor "order-audti" \(not in actors\[\]\); did you mean "order-audit"\?/);
  assert.match(
    r.stderr,
    /  actors\[2\]\.handler: no handler registered as "emial-handler"; registered: .*email-handler.*; did you mean "email-handler"\?/,
  );
  assert.match(r.stderr, /hint: .*config validate/);
});

test("an actor whose handler is not registered fails validate on its own (exit 2, its JSON path)", async () => {
  const file = write("unregistered.json", { actors: [{ name: "payments" }] });
  const r = await runJetbus(["config", "validate", file]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /actors\[0\]\.name: no handler registered under the actor's name "payments" \(set "handler", or "module"/);
});

test("hints fit their command: an unregistered handler at start-up is a config error; dlq replay of an unknown id points at dlq list", async () => {
  env = await startServer();
  const file = write("start.json", { actors: [{ name: "payments", handler: "paymnts" }] });
  const actor = await runJetbus(["actor", "payments", "--config", file, "--servers", env.server.url, "--no-http"]);
  assert.is(actor.code, 2, actor.stderr);
  assert.match(actor.stderr, /\[HANDLER_INVALID\].*no handler registered as "paymnts"/);
  assert.match(actor.stderr, /hint: .*config validate/);
  assert.not.match(actor.stderr, /history/);

  const dlq = await runJetbus(["dlq", "replay", "nope", "--servers", env.server.url]);
  assert.is(dlq.code, 1, dlq.stderr);
  assert.match(dlq.stderr, /\[NOT_FOUND\]: no dead letter with event id or sequence nope/);
  assert.match(dlq.stderr, /hint: `jetbus dlq list` shows/);
  assert.not.match(dlq.stderr, /history/);
});

test.run();
