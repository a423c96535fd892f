import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent } from "../../runtime/events/codec.ts";
import { clearUpcasters, latestVersionOf, useUpcasters } from "../../runtime/events/versions/registry.ts";
import { upcast } from "../../runtime/events/versions/upcast.ts";
import { defineUpcasters, upcasterProblems } from "../../runtime/events/versions/upcasters.ts";
import { versionSchemaProblems } from "../../runtime/events/versions/module.ts";
import { EventSchemas } from "../../runtime/store/schemas.ts";
import { eventTypesModule, readEventSchemas } from "../../runtime/typegen/event-types.ts";
import { ConfigError, EventVersionError, SchemaViolationError } from "../../runtime/errors.ts";

type V1 = { amount: number };
type V2 = { amount: number; currency: string };
type V3 = { cents: number; currency: string };
const chain = defineUpcasters({
  Deposited: {
    1: (d: V1): V2 => ({ ...d, currency: "EUR" }),
    2: (d: V2): V3 => ({ cents: d.amount * 100, currency: d.currency }),
  },
});

test.after.each(() => clearUpcasters());

test("upcast: an old event is brought up to the latest version step by step; a latest one is returned as it is", () => {
  useUpcasters(chain);
  assert.is(latestVersionOf("Deposited"), 3);
  assert.is(latestVersionOf("Other"), 1);
  const v1 = createEvent({ type: "Deposited", data: { amount: 2 }, dataversion: 1 });
  const up = upcast(v1);
  assert.equal(up.data, { cents: 200, currency: "EUR" });
  assert.is(up.dataversion, 3);
  assert.is(up.id, v1.id);
  assert.equal(v1.data, { amount: 2 }, "the stored event is not changed");
  const latest = createEvent({ type: "Deposited", data: { cents: 1, currency: "USD" } });
  assert.is(latest.dataversion, 3, "new events are stamped with the latest version");
  assert.is(upcast(latest), latest, "the same object: nothing copied on the hot path");
  const other = createEvent({ type: "Other", data: {} });
  assert.is(upcast(other), other);
});

test("upcast: no upcasters at all costs nothing and changes nothing", () => {
  const e = createEvent({ type: "Deposited", data: { amount: 1 }, dataversion: 1 });
  assert.is(upcast(e), e);
  assert.is(e.dataversion, 1);
});

test("upcast: a version below the first upcaster, or an upcaster that throws, is an EventVersionError naming both", () => {
  useUpcasters(
    defineUpcasters({
      Deposited: { 2: (d: V2) => d, 3: () => ({}) },
      Broken: {
        1: () => {
          throw new Error("bad data");
        },
      },
    }),
  );
  try {
    upcast(createEvent({ type: "Deposited", data: {}, dataversion: 1 }));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, EventVersionError);
    assert.is((err as EventVersionError).code, "EVENT_VERSION");
    assert.match(
      (err as Error).message,
      /Deposited version 1: no upcaster from version 1 \(the upcasters of Deposited start at version 2\)/,
    );
  }
  assert.throws(() => upcast(createEvent({ type: "Broken", data: {}, dataversion: 1 })), /the upcaster from version 1 threw: bad data/);
});

test("upcasters: gaps, non-numeric versions, non-functions and bad types are problems with their paths; useUpcasters refuses them", () => {
  const problems = upcasterProblems({
    Deposited: { 1: (d: never) => d, 3: (d: never) => d },
    "bad type!": { 1: (d: never) => d },
    Typo: { one: (d: never) => d } as never,
    NotFn: { 1: 42 } as never,
  });
  assert.equal(
    problems.map((p) => p.path),
    ["Deposited", "bad type!", "Typo.one", "Typo", "NotFn.1"],
  );
  assert.match(problems[0]!.message, /from version 1 and 3 but none from 2/);
  assert.throws(
    () => useUpcasters({ Deposited: { 1: (d: never) => d, 3: (d: never) => d } }),
    (e: Error) => e instanceof ConfigError,
  );
  assert.is(latestVersionOf("Deposited"), 1, "nothing was changed");
});

test("schemas per version: <Type>@<N>.json checks version N; an older version without one is checked upcast against <Type>.json", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-versions-"));
  writeFileSync(join(dir, "Deposited.json"), JSON.stringify({ type: "object", required: ["cents", "currency"] }));
  writeFileSync(
    join(dir, "Deposited@1.json"),
    JSON.stringify({ type: "object", required: ["amount"], additionalProperties: false, properties: { amount: { type: "number" } } }),
  );
  useUpcasters(chain);
  const schemas = new EventSchemas(dir);
  schemas.checkEvent(createEvent({ type: "Deposited", data: { amount: 1 }, dataversion: 1 }));
  assert.throws(
    () => schemas.checkEvent(createEvent({ type: "Deposited", data: { amount: 1, currency: "EUR" }, dataversion: 1 })),
    /Deposited@1\.json/,
  );
  // version 2 has no schema of its own: its data upcast to 3 must fit Deposited.json
  schemas.checkEvent(createEvent({ type: "Deposited", data: { amount: 1, currency: "EUR" }, dataversion: 2 }));
  schemas.checkEvent(createEvent({ type: "Deposited", data: { cents: 1, currency: "EUR" } }));
  try {
    schemas.checkEvent(createEvent({ type: "Deposited", data: { amount: 1 } }));
    assert.unreachable();
  } catch (err) {
    assert.instance(err, SchemaViolationError);
    assert.match((err as Error).message, /schemas\/events\/Deposited\.json/);
  }
});

test("config validate's version checks: a <Type>@<N>.json needs upcasters taking N to a later version", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-versions-"));
  for (const f of ["Deposited@1.json", "Deposited@3.json", "Orphan@1.json", "Plain.json"]) writeFileSync(join(dir, f), "{}");
  const problems = versionSchemaProblems(chain, dir);
  assert.equal(
    problems.map((p) => p.path),
    ["schemas/events/Deposited@3.json", "schemas/events/Orphan@1.json"],
  );
  assert.match(problems[0]!.message, /not an old one: its latest is 3, whose schema is Deposited\.json/);
  assert.match(problems[1]!.message, /no upcaster of Orphan/);
});

test("jetbus types: the latest version under the type's name in EventMap, older ones as <Type>V<N> beside it", () => {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-versions-"));
  writeFileSync(
    join(dir, "Deposited.json"),
    JSON.stringify({ type: "object", required: ["cents"], properties: { cents: { type: "number" } } }),
  );
  writeFileSync(
    join(dir, "Deposited@1.json"),
    JSON.stringify({ type: "object", required: ["amount"], properties: { amount: { type: "number" } } }),
  );
  const mod = eventTypesModule(readEventSchemas(dir));
  assert.match(mod, /export type Deposited = \{\n  cents: number;/);
  assert.match(mod, /export type DepositedV1 = \{\n  amount: number;/);
  assert.match(mod, /interface EventMap \{\n    "Deposited": Deposited;\n  \}/);
});

test.run();
