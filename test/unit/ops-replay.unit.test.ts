import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkRange, parseReplayPoint } from "../../runtime/operations/replay-range.ts";
import { UsageError } from "../../runtime/errors.ts";

const now = new Date("2026-02-01T12:00:00Z");

test("--from/--to accept a store sequence, a timestamp, or a duration ago", () => {
  assert.equal(parseReplayPoint("1200", "--from", now), { seq: 1200 });
  assert.equal(parseReplayPoint("2026-01-31T12:00:00Z", "--from", now), { time: new Date("2026-01-31T12:00:00Z") });
  assert.equal(parseReplayPoint("2026-01-31T13:00:00.5+01:00", "--from", now), { time: new Date("2026-01-31T12:00:00.500Z") });
  assert.equal(parseReplayPoint("15m", "--from", now), { time: new Date("2026-02-01T11:45:00Z") });
  assert.equal(parseReplayPoint("7d", "--from", now), { time: new Date("2026-01-25T12:00:00Z") });
});

test("anything else is a UsageError naming the flag and the accepted forms", () => {
  for (const bad of ["0", "-3", "yesterday", "12abc", "", "2026-13-45T00:00:00Z"]) {
    assert.throws(
      () => parseReplayPoint(bad, "--from", now),
      (e: unknown) => e instanceof UsageError && /--from/.test((e as Error).message),
      bad,
    );
  }
  assert.throws(
    () => checkRange({ seq: 5 }, { seq: 2 }),
    (e: unknown) => e instanceof UsageError,
  );
  assert.throws(
    () => checkRange({ time: now }, { time: new Date(now.getTime() - 1) }),
    (e: unknown) => e instanceof UsageError,
  );
  checkRange({ seq: 2 }, { time: now }); // mixed kinds cannot be compared before reading: allowed
});

test.run();
