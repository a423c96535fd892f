import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import pino from "pino";
import { lazyLogger, prettyByDefault } from "../../runtime/log.ts";

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

test("a lazy logger makes its pino logger on the first line, not at creation nor for a child", () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  let made = 0;
  const root = lazyLogger(() => {
    made++;
    return pino({ level: "info" }, sink);
  });
  const child = root.child({ component: "store" }, { level: "warn" });
  assert.is(made, 0, "neither creating it nor a child made the pino logger");
  child.info("dropped: below the child's level");
  assert.is(made, 1);
  child.warn({ seq: 7 }, "kept");
  root.info("root line");
  root.level = "debug";
  root.debug("after a level change");
  assert.is(made, 1, "made once");
  assert.equal(
    lines.map((l) => [l.component, l.level, l.msg, l.seq]),
    [
      ["store", 40, "kept", 7],
      [undefined, 30, "root line", undefined],
      [undefined, 20, "after a level change", undefined],
    ],
  );
  assert.is(root.isLevelEnabled("debug"), true);
});

test.run();
