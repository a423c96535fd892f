// Property-based tests of the event codec (fast-check): for any message a publisher can store,
// decoding gives an event that survives the router's re-encoding, or a typed error that becomes a
// quarantine reason; the header-block reader and the client's header parse agree. Counterexamples
// found so far are kept in test/corpus/codec and replayed by fuzz-corpus.unit.test.ts.
// FC_SEED=N replays a run; FC_RUNS=N runs more cases (default 400 per property, ~2 s).
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { createEvent, decodeEvent, encodeEvent } from "../../runtime/events/codec.ts";
import type { WireMessage } from "../../runtime/events/types.ts";
import { readHeaderBlock, readHeaders } from "../../runtime/events/headers.ts";
import { assertRoundTrip, checkMessage, clientHeaders, typed } from "../fixtures/codec-checks.ts";
import { headerBlock, newEvent, wireMessage } from "../fixtures/event-arbitraries.ts";

const params = { numRuns: Number(process.env.FC_RUNS ?? 400), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) };

test("any message decodes to a re-encodable event or fails typed (and can be quarantined)", () => {
  fc.assert(
    fc.property(wireMessage, (m) => void checkMessage(m)),
    params,
  );
});

test("the header block reader and the client's header parse give the same attributes", () => {
  fc.assert(
    fc.property(headerBlock, (block) => {
      const parsed = clientHeaders(block);
      if (parsed) assert.equal(readHeaderBlock(block), readHeaders(parsed));
    }),
    params,
  );
});

test("decoding from the header block and from the parsed headers gives the same outcome", () => {
  fc.assert(
    fc.property(wireMessage, (m: WireMessage) => {
      if (m.headerBlock === undefined) return;
      const headers = clientHeaders(m.headerBlock);
      if (!headers) return;
      // the same stream timestamp for both readings: without one, the codec takes the current time
      m = { ...m, timestamp: m.timestamp ?? new Date(0) };
      const viaBlock = checkMessage(m);
      const { headerBlock: _, ...rest } = m;
      const viaHeaders = checkMessage({ ...rest, headers });
      assert.equal(viaHeaders.ok, viaBlock.ok, "one reading accepted, the other refused");
      if (viaBlock.ok && viaHeaders.ok) assert.equal(viaHeaders.event, viaBlock.event);
    }),
    params,
  );
});

test("createEvent: any producer input gives a re-encodable event or a typed error", () => {
  fc.assert(
    fc.property(newEvent, (e) => {
      const r = typed(() => createEvent(e), ["EVENT_INVALID"]);
      if (r.ok) assertRoundTrip(r.value);
    }),
    params,
  );
});

test("sizes: a body over the limit is EVENT_TOO_LARGE, one at or under it never is", () => {
  fc.assert(
    fc.property(wireMessage, fc.integer({ min: 0, max: 256 }), (m: WireMessage, limit) => {
      const out = checkMessage(m, limit);
      if (m.data.length > limit) assert.equal(out, { ok: false, code: "EVENT_TOO_LARGE", message: (out as { message: string }).message });
      else assert.ok(out.ok || out.code !== "EVENT_TOO_LARGE");
    }),
    params,
  );
});

test("sizes: bodies around 1 MiB, the default limit, decode or fail typed", () => {
  const mib = 1024 * 1024;
  fc.assert(
    fc.property(fc.integer({ min: mib - 8, max: mib + 8 }), (n) => {
      const data = new TextEncoder().encode(JSON.stringify("x".repeat(Math.max(0, n - 2))));
      const out = checkMessage({ subject: "events.Big", data, seq: 1, stream: "EVENTS" });
      assert.is(out.ok, data.length <= mib);
    }),
    { ...params, numRuns: 20 },
  );
});

test("decodeEvent never throws anything but its typed errors on raw noise", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.uint8Array(), fc.string(), (subject, data, block) => {
      typed(() => decodeEvent({ subject, data, headerBlock: block }), ["EVENT_INVALID", "EVENT_TOO_LARGE"]);
    }),
    params,
  );
});

test("nesting: bodies nested 1 to 6,000 levels decode to a re-encodable event or fail typed", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6000 }), fc.constantFrom("[]", "{}"), fc.boolean(), (depth, pair, structured) => {
      const open = pair === "[]" ? "[" : '{"a":';
      const close = pair === "[]" ? "]" : "}";
      const nested = open.repeat(depth) + (pair === "[]" ? "" : "1") + close.repeat(depth);
      const text = structured ? `{"specversion":"1.0","id":"x","type":"T","source":"s","data":${nested}}` : nested;
      checkMessage({ subject: "events.T", data: new TextEncoder().encode(text), seq: 1, stream: "EVENTS", timestamp: new Date(0) });
    }),
    { ...params, numRuns: 60 },
  );
});

test("encodeEvent: data that cannot be a JSON body (cycles, BigInt, too deep) is a typed error", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  let deep: unknown = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  for (const data of [cyclic, 10n, deep]) {
    const event = createEvent({ type: "T", data });
    const r = typed(() => encodeEvent(event), ["EVENT_INVALID"]);
    assert.is(r.ok, false);
  }
});

test.run();
