import { JetStreamApiError } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { AggregateInvalidError, PublishError } from "../errors.ts";
import { encodeEvent } from "../events/codec.ts";
import { putHeader } from "../events/headers.ts";
import { entitySubject } from "../events/subjects.ts";
import type { Event } from "../events/types.ts";
import { retryTransient } from "../nats/connect.ts";
import { isWrongLastSequence } from "../nats/errors.ts";
import { AnswerKind, readPublishAnswer } from "../store/publish-answer.ts";
import { JetbusHeaders } from "../topology.ts";
import { encodeRest } from "./read.ts";

/** The server's per-subject guard: the last sequence on the subject filter must be this (0: no message yet). */
const EXPECTED_SEQ = "Nats-Expected-Last-Subject-Sequence";
/** The filter that guard looks at instead of the publish subject (nats-server 2.11+): the whole entity. */
const EXPECTED_SUBJECT = "Nats-Expected-Last-Subject-Sequence-Subject";
/**
 * The events after a decision's first travel in its header so a reader can store them should
 * the writer stop halfway (crash, lost connection). nats-server limits headers to 64 KiB; this
 * leaves room for the rest of them.
 */
export const MAX_REST_HEADER = 16 * 1024;
const REQUEST_TIMEOUT_MS = 5000;

export type Wire = ReturnType<typeof encodeEvent>;

/** One event of an entity as it is published: entity subject, command and decision headers. */
export function entityWire(
  aggregate: string,
  id: string,
  event: Event,
  o: { command?: string; index?: number; size?: number; rest?: readonly Event[] } = {},
): Wire {
  const wire = encodeEvent(event, { subject: entitySubject(aggregate, id, event.type) });
  if (o.command !== undefined) putHeader(wire.headers, JetbusHeaders.Command, o.command);
  if (o.size !== undefined && o.size > 1) putHeader(wire.headers, JetbusHeaders.Decision, `${o.index}/${o.size}`);
  if (o.rest && o.rest.length > 0) {
    const rest = encodeRest(o.rest);
    if (rest.length > MAX_REST_HEADER)
      throw new AggregateInvalidError(
        `${aggregate} ${JSON.stringify(id)}: a decision of ${o.size} events whose events after the first take ${rest.length} bytes in its header (at most ${MAX_REST_HEADER}): jetbus stores them one after another and carries the rest in the first so that a crash between them never leaves half a decision; decide fewer or smaller events`,
      );
    putHeader(wire.headers, JetbusHeaders.DecisionRest, rest);
  }
  return wire;
}

/** What a guarded publish came to: stored at `seq`, or refused because the entity's last sequence was not the one expected. */
export type GuardedOutcome =
  | Readonly<{ kind: "stored"; seq: number; duplicate: boolean }>
  /** `lastSeq`: the entity's last sequence as the server reported it, when it did. */
  | Readonly<{ kind: "conflict"; lastSeq?: number }>;

/**
 * Publishes one event only if the entity's last stored sequence (over `filter`, every subject of
 * the entity) is `expected`. A leader election or a timeout is waited out by sending the same
 * message again (same Nats-Msg-Id): a resend of a message that was stored after all meets its own
 * sequence and comes back as a conflict, so callers read a conflict as "maybe mine" and look for
 * their event ids on the next load (AggregateStore.execute).
 */
export async function publishGuarded(nc: NatsConnection, wire: Wire, filter: string, expected: number): Promise<GuardedOutcome> {
  putHeader(wire.headers, EXPECTED_SEQ, String(expected));
  putHeader(wire.headers, EXPECTED_SUBJECT, filter);
  return retryTransient(async () => {
    const reply = await nc.request(wire.subject, wire.data, { headers: wire.headers, timeout: REQUEST_TIMEOUT_MS });
    const answer = readPublishAnswer(reply, wire.subject);
    switch (answer.kind) {
      case AnswerKind.Acked:
        return { kind: "stored", seq: answer.ack.seq, duplicate: answer.ack.duplicate };
      case AnswerKind.NoLeader:
        throw new PublishError(`publish to ${wire.subject}: no stream leader`, { retryable: true });
      case AnswerKind.NotYet:
        throw answer.refusal();
      case AnswerKind.Refused:
        if (isWrongLastSequence(answer.error)) return { kind: "conflict", lastSeq: reportedLast(answer.error) };
        throw answer.error;
    }
  });
}

/**
 * The last sequence a "wrong last sequence: N" refusal names: a hint only (the next read waits
 * until it sees that far, see readEntity), so a server that words it otherwise costs a retry, not
 * a wrong decision.
 */
function reportedLast(err: PublishError): number | undefined {
  const cause = err.cause;
  const text = cause instanceof JetStreamApiError ? cause.message : "";
  const m = /(\d+)\s*$/.exec(text);
  return m ? Number(m[1]) : undefined;
}
