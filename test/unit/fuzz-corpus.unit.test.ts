// Replays the cases the property tests found (and the limits next to them), kept in
// test/corpus/{codec,config}/*.json: each names why it is there and what must happen. A case that
// regresses fails here with the same checks as codec-properties and config-properties.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkMessage } from "../fixtures/codec-checks.ts";
import { textOutcome } from "../fixtures/config-checks.ts";

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), "..", "corpus");

/** Text, or a template for long text: prefix + open x times + middle + close x times + suffix. */
type Text = string | { prefix?: string; open: string; times: number; middle?: string; close?: string; suffix?: string };
type CodecCase = {
  why: string;
  message: { subject: string; headerBlock?: string; body: Text; seq?: number; stream?: string };
  maxBytes?: number;
  expect: string;
};
type ConfigCase = { why: string; text: Text; expect: string; problem?: string };

const expand = (t: Text) =>
  typeof t === "string"
    ? t
    : (t.prefix ?? "") + t.open.repeat(t.times) + (t.middle ?? "") + (t.close ?? "").repeat(t.times) + (t.suffix ?? "");

function cases<T>(kind: string): [string, T][] {
  const dir = join(CORPUS, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), "utf8")) as T]);
}

test("the corpus holds cases of both kinds", () => {
  assert.ok(cases("codec").length >= 5 && cases("config").length >= 5);
});

for (const [file, c] of cases<CodecCase>("codec")) {
  test(`codec corpus ${file}`, () => {
    const m = c.message;
    const out = checkMessage(
      {
        subject: m.subject,
        headerBlock: m.headerBlock,
        data: new TextEncoder().encode(expand(m.body)),
        seq: m.seq,
        stream: m.stream,
        timestamp: new Date(0),
      },
      c.maxBytes,
    );
    assert.is(out.ok ? "ok" : out.code, c.expect, `${c.why}${out.ok ? "" : `\n  got: ${out.message}`}`);
  });
}

for (const [file, c] of cases<ConfigCase>("config")) {
  test(`config corpus ${file}`, () => {
    const out = textOutcome(expand(c.text));
    assert.is(out.ok ? "ok" : "CONFIG_INVALID", c.expect, c.why);
    if (!out.ok && c.problem) {
      const text = out.problems.map((p) => `${p.path}: ${p.message}`).join("\n");
      assert.ok(text.includes(c.problem), `expected a problem mentioning ${JSON.stringify(c.problem)}, got:\n${text}`);
    }
  });
}

test.run();
