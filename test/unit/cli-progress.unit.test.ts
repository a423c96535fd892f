import { test } from "uvu";
import * as assert from "uvu/assert";
import { createProgress, type ProgressStream } from "../../runtime/cli/progress.ts";

function fakeStream(isTTY: boolean): ProgressStream & { writes: string[] } {
  const writes: string[] = [];
  return { isTTY, columns: 80, writes, write: (s: string) => writes.push(s) };
}

test("on a TTY: one line rewritten in place with the count, cleared when done", () => {
  const tty = fakeStream(true);
  const p = createProgress("replaying to mailer", { stream: tty, everyMs: 0 });
  p.update(5, 10);
  p.update(10, 10);
  p.done();
  assert.equal(tty.writes, ["\r\x1b[2Kreplaying to mailer: 5/10 (50%)", "\r\x1b[2Kreplaying to mailer: 10/10 (100%)", "\r\x1b[2K"]);
});

test("redraws are throttled, but the final count is always drawn", () => {
  const tty = fakeStream(true);
  const p = createProgress("indexing events", { stream: tty, everyMs: 60_000 });
  for (let n = 1; n <= 100; n++) p.update(n, 100);
  assert.equal(tty.writes, ["\r\x1b[2Kindexing events: 1/100 (1%)", "\r\x1b[2Kindexing events: 100/100 (100%)"]);
});

test("not a TTY (pipe, CI, a file): writes nothing at all", () => {
  const piped = fakeStream(false);
  const p = createProgress("replaying dead letters", { stream: piped, everyMs: 0 });
  p.update(1, 2);
  p.done();
  assert.equal(piped.writes, []);
});

test("done() without any update writes nothing, and the line never exceeds the terminal width", () => {
  const tty = fakeStream(true);
  createProgress("x", { stream: tty }).done();
  assert.equal(tty.writes, []);
  const narrow = { ...fakeStream(true), columns: 30 };
  const writes: string[] = [];
  narrow.write = (s: string) => writes.push(s);
  createProgress("a very long label that goes on and on", { stream: narrow, everyMs: 0 }).update(3);
  assert.ok(writes[0]!.length <= "\r\x1b[2K".length + 29, writes[0]);
});

test.run();
