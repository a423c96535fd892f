import { test } from "uvu";
import * as assert from "uvu/assert";
import { errors } from "@nats-io/transport-node";
import { startWithRetry } from "../../runtime/app/startup-retry.ts";
import { ConfigError, StartupTimeoutError } from "../../runtime/errors.ts";
import type { Logger } from "../../runtime/log.ts";
import { retryTransient } from "../../runtime/nats/connect.ts";
import { JetStreamApiError } from "@nats-io/jetstream";

/** A logger that keeps its warnings. */
function recording(): { logger: Logger; warnings: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = { warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }) } as unknown as Logger;
  return { logger, warnings };
}

const timeout = () => new errors.TimeoutError();

test("a start-up that times out is started again, one warning per attempt, until it succeeds", async () => {
  const { logger, warnings } = recording();
  let calls = 0;
  const result = await startWithRetry(logger, "jetbus router", async () => {
    if (++calls < 3) throw timeout();
    return "up";
  });
  assert.is(result, "up");
  assert.is(calls, 3);
  assert.is(warnings.length, 2);
  assert.equal(
    warnings.map((w) => w.obj.attempt),
    [1, 2],
  );
  assert.match(warnings[0]!.msg, /jetbus router: start-up failed for now/);
});

test("still timing out after the give-up time: STARTUP_TIMEOUT naming the service, the attempts and a hint", async () => {
  const { logger, warnings } = recording();
  const err = await startWithRetry(
    logger,
    "jetbus actor a",
    async () => {
      throw timeout();
    },
    { giveUpMs: 600 },
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, StartupTimeoutError);
  const e = err as StartupTimeoutError;
  assert.is(e.code, "STARTUP_TIMEOUT");
  assert.match(e.message, /^jetbus actor a did not start within \d+ s \(\d+ attempts\): /);
  assert.ok(e.attempts >= 2 && warnings.length === e.attempts - 1, `${e.attempts} attempts, ${warnings.length} warnings`);
  assert.match(e.hint ?? "", /JetStream API did not answer/);
});

test("a failure that waiting cannot fix is thrown at once, without a retry", async () => {
  const { logger, warnings } = recording();
  let calls = 0;
  const bad = new ConfigError("x.json", [{ path: "actors[0]", message: "bad" }]);
  const err = await startWithRetry(logger, "jetbus up", async () => {
    calls++;
    throw bad;
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.is(err, bad);
  assert.is(calls, 1);
  assert.is(warnings.length, 0);
});

test("retries deep inside the start-up (retryTransient) are logged too, and none after it ended", async () => {
  const { logger, warnings } = recording();
  let calls = 0;
  let later: Promise<unknown> | undefined;
  const everyOne = { innerLogEveryMs: 0 };
  await startWithRetry(
    logger,
    "jetbus up",
    async () => {
      await retryTransient(async () => {
        if (++calls < 3) throw timeout();
      });
      // work the start-up began that retries after it ended (a consume loop, in its async context) says nothing
      later = new Promise((r) => setTimeout(r, 50)).then(() =>
        retryTransient(async () => {
          if (++calls < 5) throw timeout();
        }),
      );
    },
    everyOne,
  );
  assert.is(warnings.length, 2);
  assert.match(warnings[0]!.msg, /a start-up step got no answer/);
  await later;
  assert.is(calls, 5);
  assert.is(warnings.length, 2);
});

test('"stream not found" while starting (a sibling replica creating the same streams) is started again a few times, then thrown as it is', async () => {
  const notFound = () => new JetStreamApiError({ code: 404, err_code: 10059, description: "stream not found" });
  const { logger, warnings } = recording();
  let calls = 0;
  const ok = await startWithRetry(logger, "jetbus actor a", async () => {
    if (++calls < 3) throw notFound();
    return "started";
  });
  assert.is(ok, "started");
  assert.is(calls, 3);
  assert.is(warnings.length, 2);
  // lasting: after 5 restarts the error itself ends the start-up (not a timeout: waiting did not fix it)
  let tries = 0;
  const err = await startWithRetry(recording().logger, "jetbus actor a", async () => {
    tries++;
    throw notFound();
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, JetStreamApiError);
  assert.is(tries, 6);
});

test.run();
