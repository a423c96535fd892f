import { JetStreamApiError } from "@nats-io/jetstream";
import type { Msg } from "@nats-io/transport-node";
import { PublishError } from "../errors.ts";
import { ApiCode } from "../nats/errors.ts";
import type { PubAck } from "./types.ts";

/** What a stream's answer to one publish means for that message. */
export const AnswerKind = {
  /** Stored (or a duplicate of what is stored): the PubAck. */
  Acked: "acked",
  /** No responders: the stream has no leader right now; send it again, however long that takes. */
  NoLeader: "no-leader",
  /** Not stored yet, ask again while the budget lasts; past it, `refusal()` is the outcome. */
  NotYet: "not-yet",
  /** The server refused it, or the answer cannot be read: `error` is the outcome. */
  Refused: "refused",
} as const;

export type PublishAnswer =
  | Readonly<{ kind: typeof AnswerKind.Acked; ack: PubAck }>
  | Readonly<{ kind: typeof AnswerKind.NoLeader }>
  | Readonly<{ kind: typeof AnswerKind.NotYet; refusal: () => PublishError }>
  | Readonly<{ kind: typeof AnswerKind.Refused; error: PublishError }>;

type ApiAnswer = { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
type ApiError = NonNullable<ApiAnswer["error"]>;

const decoder = new TextDecoder();
/** JetStream API error codes that mean "try again": no leader, cluster not ready. */
const RETRYABLE_API_CODES: ReadonlySet<number> = new Set([503]);
/**
 * JetStream err_codes that mean "not stored yet, ask again": 10158 (409) answers a resend whose first copy the stream
 * leader is still proposing (it may yet be stored; a later resend gets the duplicate ack with its sequence), 10167 a
 * full ingest queue that dropped the message. Refusing either would tell the caller an event failed that may be stored.
 */
const NOT_YET_ERR_CODES: ReadonlySet<number> = new Set([ApiCode.DuplicateMessageInProcess, ApiCode.TooManyRequests]);

/** Reads the reply to a publish to `subject`: its PubAck, or why not. */
export function readPublishAnswer(msg: Msg, subject: string): PublishAnswer {
  if (msg.headers?.code === 503 || (msg.data.length === 0 && msg.headers?.hasError)) return { kind: AnswerKind.NoLeader };
  const plain = plainAck(msg.data);
  if (plain) return { kind: AnswerKind.Acked, ack: plain };
  let answer: ApiAnswer;
  try {
    answer = JSON.parse(decoder.decode(msg.data)) as ApiAnswer;
  } catch (err) {
    return { kind: AnswerKind.Refused, error: new PublishError(`unreadable publish ack for ${subject}`, { cause: err }) };
  }
  if (!answer.error)
    return { kind: AnswerKind.Acked, ack: { stream: answer.stream ?? "", seq: answer.seq ?? 0, duplicate: answer.duplicate === true } };
  const error = answer.error;
  const notYet = RETRYABLE_API_CODES.has(error.code ?? 0) || NOT_YET_ERR_CODES.has(error.err_code ?? 0);
  // built only when it is the outcome: a full ingest queue answers "not yet" to every message for a while
  if (notYet) return { kind: AnswerKind.NotYet, refusal: () => refusal(subject, error) };
  return { kind: AnswerKind.Refused, error: refusal(subject, error) };
}

const OPEN = encoder(`{"stream":"`);
const SEQ = encoder(`","seq":`);
const DUPLICATE = encoder(`,"duplicate":true}`);

function encoder(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function startsWith(data: Uint8Array, at: number, part: Uint8Array): boolean {
  if (data.length < at + part.length) return false;
  for (let i = 0; i < part.length; i++) if (data[at + i] !== part[i]) return false;
  return true;
}

/**
 * The plain ack every stored message gets, `{"stream":"NAME","seq":N}` (or a duplicate's, with
 * `,"duplicate":true`), read from its bytes: half the cost of JSON.parse, on every publish of the
 * router and the indexes. Anything else (an error, a domain, another layout) is null and goes to JSON.parse.
 */
function plainAck(data: Uint8Array): PubAck | null {
  if (!startsWith(data, 0, OPEN)) return null;
  let i = OPEN.length;
  while (i < data.length && data[i] !== 0x22) i++;
  const nameEnd = i;
  if (!startsWith(data, nameEnd, SEQ)) return null;
  i = nameEnd + SEQ.length;
  const digits = i;
  let seq = 0;
  for (; i < data.length; i++) {
    const d = data[i]! - 0x30;
    if (d < 0 || d > 9) break;
    seq = seq * 10 + d;
  }
  if (i === digits || i - digits > 15) return null;
  const duplicate = data[i] === 0x2c && startsWith(data, i, DUPLICATE) && i + DUPLICATE.length === data.length;
  if (!duplicate && !(data[i] === 0x7d && i + 1 === data.length)) return null;
  return { stream: streamName(data, nameEnd), seq, duplicate };
}

/*
 * Stream names read lately, kept (a ring of four): a publisher's answers name a few streams over and
 * over (the router's alternate JETBUS_INBOX and JETBUS_INDEX, names of one length). Comparing bytes
 * costs ~50 ns where TextDecoder costs ~170 ns (tsx, this machine); one kept name was slower than none
 * when two streams alternate, so the ring holds more than the router needs.
 */
const NAME_SLOTS = 4;
const names: Array<Readonly<{ bytes: Uint8Array; text: string }>> = [];
let nextSlot = 0;

function streamName(data: Uint8Array, end: number): string {
  const length = end - OPEN.length;
  for (const name of names) if (name.bytes.length === length && startsWith(data, OPEN.length, name.bytes)) return name.text;
  const bytes = data.slice(OPEN.length, end);
  const name = { bytes, text: decoder.decode(bytes) };
  names[nextSlot] = name;
  nextSlot = (nextSlot + 1) % NAME_SLOTS;
  return name.text;
}

function refusal(subject: string, error: ApiError): PublishError {
  const code = error.code ?? 0;
  // the server's API error as the cause: callers classify it by err_code (runtime/nats/errors.ts)
  const cause = new JetStreamApiError({ code, err_code: error.err_code ?? 0, description: error.description ?? "unknown error" });
  return new PublishError(`publish to ${subject} refused: ${cause.message} (code ${code}${cause.code ? `, err_code ${cause.code}` : ""})`, {
    cause,
    retryable: RETRYABLE_API_CODES.has(code),
  });
}
