import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { prettyByDefault } from "../../runtime/log.ts";

test("pretty output only on a terminal, and never when JETBUS_LOG_JSON is set", () => {
  assert.is(prettyByDefault({ isTTY: true }, {}), true);
  assert.is(prettyByDefault({ isTTY: true }, { JETBUS_LOG_JSON: "1" }), false);
  assert.is(prettyByDefault({ isTTY: false }, {}), false);
  assert.is(prettyByDefault({}, {}), false, "a pipe has no isTTY at all");
});

test("with stderr piped, a log line is one JSON object with the fields given, and secrets are redacted", () => {
  const script = `
    import { createLogger } from "./runtime/log.ts";
    const log = createLogger({ name: "probe" });
    log.warn({ eventId: "e-1", eventType: "UserCreated", actor: "mailer", attempt: 2, correlationId: "c-1", nats: { pass: "hunter2" } }, "handler failed");
    log.flush();
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, JETBUS_LOG_JSON: "", JETBUS_LOG_LEVEL: "info" },
  });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.is(lines.length, 1, r.stderr);
  const rec = JSON.parse(lines[0]!);
  assert.equal(
    {
      msg: rec.msg,
      level: rec.level,
      eventId: rec.eventId,
      eventType: rec.eventType,
      actor: rec.actor,
      attempt: rec.attempt,
      correlationId: rec.correlationId,
      pass: rec.nats.pass,
    },
    {
      msg: "handler failed",
      level: 40,
      eventId: "e-1",
      eventType: "UserCreated",
      actor: "mailer",
      attempt: 2,
      correlationId: "c-1",
      pass: "[redacted]",
    },
  );
});

test.run();
