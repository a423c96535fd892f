import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatDuration, parseDuration, parseTimePoint } from "../../runtime/config/duration.ts";
import { InvalidTimeError } from "../../runtime/errors.ts";
import { parseReplayPoint } from "../../runtime/operations/replay-range.ts";

const now = new Date("2026-02-01T12:00:00Z");

test("durations: milliseconds as a number or digits, or a number with a unit ms/s/m/h/d/w", () => {
  const cases: Array<[number | string, number]> = [
    [0, 0],
    [15, 15],
    ["250", 250],
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["1w", 604_800_000],
    [" 2m ", 120_000],
  ];
  for (const [input, ms] of cases) assert.is(parseDuration(input, "--grace"), ms, JSON.stringify(input));
});

test("a bad duration is an InvalidTimeError naming where it came from, the value and the accepted forms", () => {
  for (const bad of ["5 minutes", "1.5h", "-3s", "", "10y", "s", -1, 1.5]) {
    try {
      parseDuration(bad, "--ack-wait");
      assert.unreachable(`accepted ${JSON.stringify(bad)}`);
    } catch (e) {
      assert.instance(e, InvalidTimeError, JSON.stringify(bad));
      const err = e as InvalidTimeError;
      assert.is(err.code, "USAGE");
      assert.is(err.value, String(bad));
      assert.ok(
        err.message.startsWith(
          `--ack-wait: ${JSON.stringify(String(bad))} is not valid; use milliseconds, or a number with a unit: 500ms, 30s, 5m, 24h, 7d, 1w`,
        ),
        err.message,
      );
    }
  }
});

test("durations are shown as a config writes them, and read back to the same milliseconds", () => {
  const cases: Array<[number, string]> = [
    [0, "0ms"],
    [250, "250ms"],
    [1500, "1500ms"],
    [30_000, "30s"],
    [90_000, "90s"],
    [300_000, "5m"],
    [86_400_000, "24h"],
    [172_800_000, "2d"],
    [604_800_000, "7d"],
    [129_600_000, "36h"],
  ];
  for (const [ms, text] of cases) {
    assert.is(formatDuration(ms), text, String(ms));
    assert.is(parseDuration(text, "round trip"), ms, text);
  }
});

test("points in time: ISO timestamps, dates, or a duration ago (with or without 'ago')", () => {
  assert.is(parseTimePoint("2026-01-31T12:00:00Z", "--since", now).toISOString(), "2026-01-31T12:00:00.000Z");
  assert.is(parseTimePoint("2026-01-31T13:00:00.5+01:00", "--since", now).toISOString(), "2026-01-31T12:00:00.500Z");
  assert.is(parseTimePoint("2026-01-31", "--since", now).toISOString(), "2026-01-31T00:00:00.000Z");
  assert.is(parseTimePoint("15m", "--since", now).toISOString(), "2026-02-01T11:45:00.000Z");
  assert.is(parseTimePoint("2h ago", "--since", now).toISOString(), "2026-02-01T10:00:00.000Z");
  assert.is(parseTimePoint("1w", "--since", now).toISOString(), "2026-01-25T12:00:00.000Z");
  for (const bad of ["yesterday", "10 minutes", "", "2024-13-45T99:00:00Z", "1200", "2026-01-31Tnoon"]) {
    assert.throws(
      () => parseTimePoint(bad, "--until", now),
      (e: unknown) =>
        e instanceof InvalidTimeError && e.message.startsWith(`--until: ${JSON.stringify(bad)} is not valid; use an ISO timestamp`),
      bad,
    );
  }
});

test("replay --from takes a store sequence or the same points in time as history --since", () => {
  for (const t of ["1w", "7d", "2h ago", "2026-01-31T12:00:00Z", "2026-01-31"]) {
    assert.equal(parseReplayPoint(t, "--from", now), { time: parseTimePoint(t, "--since", now) }, t);
  }
  assert.equal(parseReplayPoint("1200", "--from", now), { seq: 1200 });
  assert.throws(
    () => parseReplayPoint("soon", "--from", now),
    (e: unknown) =>
      e instanceof InvalidTimeError &&
      /^--from: "soon" is not valid; use a store sequence \(1200\), or an ISO timestamp/.test((e as Error).message),
  );
});

test.run();
