import { test } from "uvu";
import * as assert from "uvu/assert";
import { headers } from "@nats-io/transport-node";
import {
  entityFilter,
  entityIdOf,
  entitySubject,
  entityToken,
  parseEntitySubject,
  typeFromSubject,
  typeSubjectFilters,
} from "../../runtime/events/subjects.ts";
import { createEvent, decodeEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { defineAggregate } from "../../runtime/aggregate/define.ts";
import { foldEntity } from "../../runtime/aggregate/fold.ts";
import type { EntityMessage } from "../../runtime/aggregate/read.ts";
import { pointOf } from "../../runtime/cli/commands/aggregate.ts";
import { AggregateInvalidError, InvalidEventError, UsageError } from "../../runtime/errors.ts";

test("entity subjects: events.@.<aggregate>.<entity>.<type>; ids that are not a plain token travel as ~base64url, and read back", () => {
  assert.is(entitySubject("BankAccount", "acct-42", "MoneyDeposited"), "events.@.BankAccount.acct-42.MoneyDeposited");
  assert.is(entityFilter("BankAccount", "acct-42"), "events.@.BankAccount.acct-42.>");
  for (const id of ["acct-42", "a.b", "with space", "ünïcode", "~tilde", "*", "x".repeat(200)]) {
    const token = entityToken(id);
    assert.ok(/^[A-Za-z0-9_~-]+$/.test(token), `${id} -> ${token} is one subject token`);
    assert.is(entityIdOf(token), id);
    assert.equal(parseEntitySubject(entitySubject("A", id, "Dotted.Type")), { aggregate: "A", id, type: "Dotted.Type" });
  }
  assert.is(entityToken("a.b").startsWith("~"), true);
  assert.throws(
    () => entitySubject("Bank Account", "x", "T"),
    (e: Error) => e instanceof InvalidEventError,
  );
  assert.throws(
    () => entityToken(""),
    (e: Error) => e instanceof InvalidEventError,
  );
  for (const s of ["events.T", "events.@.A.x", "events.@..x.T", "events.@.A..T", "events.@.A.x.bad type", "other.@.A.x.T"])
    assert.is(parseEntitySubject(s), undefined, s);
  assert.is(typeFromSubject("events.@.A.x.User.Created"), "User.Created");
  assert.is(typeFromSubject("events.User.Created"), "User.Created");
  assert.throws(
    () => typeFromSubject("events.@.A"),
    (e: Error) => e instanceof InvalidEventError,
  );
});

test("type filters: each type's plain and entity subjects; none for patterns that would reach into entity subjects", () => {
  assert.equal(typeSubjectFilters("OrderPlaced"), ["events.OrderPlaced", "events.@.*.*.OrderPlaced"]);
  assert.equal(typeSubjectFilters("User.>"), ["events.User.>", "events.@.*.*.User.>"]);
  assert.equal(typeSubjectFilters("*.Created"), ["events.*.Created", "events.@.*.*.*.Created"]);
  assert.equal(typeSubjectFilters(">"), ["events.>"]);
  assert.is(typeSubjectFilters("*.>"), undefined);
  assert.is(typeSubjectFilters("*.*.*.*"), undefined);
});

test("codec: an event on an entity subject gets its entity as the CloudEvents subject, in every form; a mismatch is refused", () => {
  const e = createEvent({ type: "MoneyDeposited", data: { amount: 1 }, subject: "acct-1" });
  const wire = encodeEvent(e, { subject: entitySubject("BankAccount", "acct-1", e.type) });
  assert.is(wire.headers.get("ce-subject"), "acct-1");
  const back = decodeEvent({ subject: wire.subject, data: wire.data, headers: wire.headers, seq: 1, stream: "EVENTS" }).event;
  assert.equal(back, e);
  // raw JSON on an entity subject: type and subject from the subject
  const raw = decodeEvent({
    subject: "events.@.BankAccount.~YS5i.MoneyDeposited",
    data: new TextEncoder().encode('{"amount":2}'),
    seq: 7,
    stream: "EVENTS",
  });
  assert.is(raw.event.type, "MoneyDeposited");
  assert.is(raw.event.subject, "a.b");
  // the type must be the subject's tail, and a ce-subject the subject's entity
  assert.throws(
    () => decodeEvent({ subject: "events.@.BankAccount.acct-1.Other", data: wire.data, headers: wire.headers, seq: 1 }),
    /does not match subject/,
  );
  const h = headers();
  h.set("ce-type", "MoneyDeposited");
  h.set("ce-id", "x");
  h.set("ce-subject", "acct-2");
  assert.throws(() => decodeEvent({ subject: wire.subject, data: wire.data, headers: h, seq: 1 }), /does not match the entity/);
  // a plain subject carries a subject attribute as given
  const plain = createEvent({ type: "T", data: {}, subject: "anything" });
  const pw = encodeEvent(plain);
  assert.is(decodeEvent({ subject: pw.subject, data: pw.data, headers: pw.headers }).event.subject, "anything");
});

const counter = defineAggregate<number, "inc", { type: "Inc"; data: Record<string, never> }>({
  name: "C",
  initial: () => 0,
  evolve: (n) => n + 1,
  decide: () => ({ type: "Inc", data: {} }),
});

function msg(seq: number, o: Partial<EntityMessage> = {}): EntityMessage {
  const event = createEvent({ type: "Inc", data: {}, subject: "c1", id: `e${seq}` });
  return { event, storedVersion: 1, seq, time: new Date(seq * 1000), ...o };
}

test("fold: state, version and sequence; commands by id; a decision left open at the end names what is missing", () => {
  const rest = [createEvent({ type: "Inc", data: {}, id: "e11" }), createEvent({ type: "Inc", data: {}, id: "e12" })];
  const f = foldEntity(counter, { state: 0, version: 0, seq: 0 }, [
    msg(3, { command: "c-1" }),
    msg(10, { command: "c-2", decision: { index: 1, size: 3 }, rest }),
    msg(11, { event: { ...rest[0]! }, command: "c-2", decision: { index: 2, size: 3 } }),
  ]);
  assert.equal([f.state, f.version, f.seq], [3, 3, 11]);
  assert.equal([...f.commands.keys()], ["c-1", "c-2"]);
  assert.equal(
    f.open?.missing.map((e) => e.id),
    ["e12"],
  );
  assert.is(f.open?.size, 3);
  assert.equal(
    f.events.map((e) => [e.seq, e.version]),
    [
      [3, 1],
      [10, 2],
      [11, 3],
    ],
  );
  const done = foldEntity(counter, { state: 0, version: 0, seq: 0 }, [
    msg(10, { decision: { index: 1, size: 2 }, rest: [rest[0]!] }),
    msg(11, { event: { ...rest[0]! }, decision: { index: 2, size: 2 } }),
  ]);
  assert.is(done.open, undefined);
  const stopped = foldEntity(counter, { state: 5, version: 5, seq: 2 }, [msg(3), msg(4), msg(9)], (m) => m.seq > 4);
  assert.equal([stopped.state, stopped.version, stopped.seq, stopped.after], [7, 7, 4, 1]);
});

test("defineAggregate: a spec that cannot work is an AggregateInvalidError naming each problem", () => {
  try {
    defineAggregate({ name: "Bank Account", initial: () => 0, evolve: 1, decide: undefined, snapshots: { every: 0 } } as never);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, AggregateInvalidError);
    assert.is((err as AggregateInvalidError).code, "AGGREGATE_INVALID");
    assert.match(
      (err as Error).message,
      /is not valid.*evolve must be a function; decide must be a function; snapshots\.every must be a whole number >= 1/,
    );
  }
});

test("aggregate show's point: --at a time or a duration ago, --seq or --entity-version a whole number, at most one", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  assert.equal(pointOf({ at: "2h" }, now), { at: new Date("2026-01-01T10:00:00Z") });
  assert.equal(pointOf({ at: "2026-01-01T00:00:00Z" }), { at: new Date("2026-01-01T00:00:00Z") });
  assert.equal(pointOf({ seq: "17" }), { seq: 17 });
  assert.equal(pointOf({ version: "3" }), { version: 3 });
  assert.equal(pointOf({}), {});
  assert.throws(
    () => pointOf({ at: "1h", seq: "2" }),
    (e: Error) => e instanceof UsageError && /not --at and --seq/.test(e.message),
  );
  assert.throws(() => pointOf({ seq: "x" }), /--seq must be a whole number/);
  assert.throws(() => pointOf({ version: "1.5" }), /--entity-version must be a whole number/);
  assert.throws(() => pointOf({ at: "yesterday" }), /--at/);
});

test.run();
