import { test } from "uvu";
import * as assert from "uvu/assert";
import { createEvent } from "../../runtime/events/codec.ts";
import { buildTraceTree, renderTrace } from "../../runtime/operations/trace.ts";
import type { TraceNode } from "../../runtime/operations/types.ts";

const corr = "c-1";
const ev = (id: string, type: string, causationid?: string, s = 0) =>
  createEvent({
    id,
    type,
    data: {},
    correlationid: corr,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString(),
    ...(causationid ? { causationid } : {}),
  });
const ids = (nodes: readonly TraceNode[]): unknown => nodes.map((n) => (n.children.length ? [n.event.id, ids(n.children)] : n.event.id));

test("children hang under their cause, in store order; handlings and dead letters attach to their event", () => {
  const t = buildTraceTree({
    correlationId: corr,
    events: [
      { event: ev("c", "EmailSent", "a", 2), seq: 3 },
      { event: ev("a", "UserCreated", undefined, 0), seq: 1 },
      { event: ev("b", "ProfileBuilt", "a", 1), seq: 2 },
      { event: ev("d", "Audit", "b", 3), seq: 4 },
    ],
    handled: [
      { actor: "mail", eventId: "a", attempts: 1, at: "2026-01-01T00:00:01Z" },
      { actor: "users", eventId: "a", attempts: 3 },
    ],
    deadLetters: [{ actor: "audit", eventId: "d", seq: 9, at: "2026-01-01T00:00:05Z", attempts: 5, error: "boom", errorCode: "E1" }],
    routedTo: { a: ["mail", "users", "crm"] },
  });
  assert.equal(ids(t.roots), [["a", [["b", ["d"]], "c"]]]);
  assert.equal(
    t.roots[0]!.handled.map((h) => h.actor),
    ["mail", "users"],
  );
  assert.equal(t.roots[0]!.waiting, ["crm"]);
  assert.is(t.deadLettered, 1);
  const text = renderTrace(t);
  assert.match(text, /UserCreated a #1/);
  assert.match(text, /✓ users handled after 3 attempt\(s\)/);
  assert.match(text, /✗ audit dead-lettered at 2026-01-01T00:00:05Z after 5 attempt\(s\): boom \[E1\] \(JETBUS_DLQ #9\)/);
  assert.match(text, /… crm not handled yet/);
});

test("an event whose cause is outside the correlation becomes a root marked with the missing cause", () => {
  const t = buildTraceTree({
    correlationId: corr,
    events: [
      { event: ev("x", "Late", "gone"), seq: 5 },
      { event: ev("y", "Child", "x"), seq: 6 },
    ],
    handled: [],
    deadLetters: [],
  });
  assert.equal(ids(t.roots), [["x", ["y"]]]);
  assert.is(t.roots[0]!.missingCause, "gone");
  assert.match(renderTrace(t), /cause gone not found/);
});

test("a causation cycle and duplicate copies never lose or repeat an event", () => {
  const t = buildTraceTree({
    correlationId: corr,
    events: [
      { event: ev("p", "P", "q"), seq: 1 },
      { event: ev("q", "Q", "p"), seq: 2 },
      { event: ev("q", "Q", "p"), seq: 3 },
    ],
    handled: [],
    deadLetters: [],
  });
  assert.is(t.events, 2);
  assert.equal(ids(t.roots), [["p", ["q"]]]);
});

test.run();
