import { TimeoutError } from "../errors.ts";
import type { OutgoingMessage, PubAck } from "./types.ts";

/** Runs right before a message goes out, first send and every resend; throwing refuses it (the publish fails with that error). */
export type SendGuard = () => void;

/** How a message ends: its PubAck, or the error that settles it. Called once. */
export type Settle = (outcome: PubAck | Error) => void;

/** A caller's message waiting for a slot in the window. */
export type Waiting = {
  readonly msg: OutgoingMessage;
  readonly guard: SendGuard | undefined;
  readonly done: Settle;
};

/** A message sent and not answered yet. */
export type InFlight = Waiting & {
  /** When the message first went out: "not stored yet" answers are retried until firstSentAt + the whole budget. */
  firstSentAt: number;
  sentAt: number;
  attempts: number;
  /** Sends that went unanswered for a whole ack timeout; maxAttempts of them and the message fails. */
  silent: number;
  /** A "not yet" answer (no stream leader, id still in process): the sweep sends it again instead of a tight loop. */
  parked: boolean;
};

/** What the sweep does with one message in flight. */
export const SweepVerdict = { Wait: "wait", Resend: "resend", GiveUp: "give-up" } as const;
export type SweepVerdict = (typeof SweepVerdict)[keyof typeof SweepVerdict];

/**
 * A message's budget is maxAttempts x ackTimeoutMs from its first send (defaults 10 x 5 s). Silent sends count
 * against maxAttempts; "not yet" answers (parked) are resent every sweep until the same budget in time is spent, since they
 * come back fast: counting them as attempts gave up after ~5 s of a leader election, which nats-server starts
 * only after 4-9 s without the old leader's heartbeats (raft's election timeout).
 */
export class ResendBudget {
  /** Parked messages wait a short while before their resend; silent ones the full ack timeout. */
  private readonly parkedDelay: number;

  constructor(
    readonly ackTimeoutMs: number,
    readonly maxAttempts: number,
  ) {
    this.parkedDelay = Math.min(250, ackTimeoutMs);
  }

  spent(entry: InFlight, now: number): boolean {
    return now - entry.firstSentAt >= this.maxAttempts * this.ackTimeoutMs;
  }

  /** Called by every sweep for every message in flight; counts a send that went unanswered for a whole ack timeout. */
  verdict(entry: InFlight, now: number): SweepVerdict {
    const late = now - entry.sentAt >= (entry.parked ? this.parkedDelay : this.ackTimeoutMs);
    if (!late) return SweepVerdict.Wait;
    if (!entry.parked) entry.silent++;
    const spent = entry.parked ? this.spent(entry, now) : entry.silent >= this.maxAttempts;
    return spent ? SweepVerdict.GiveUp : SweepVerdict.Resend;
  }

  /** The outcome of a message whose budget is spent. */
  timedOut(entry: InFlight, now: number): TimeoutError {
    const waited = now - entry.firstSentAt;
    const budget = `${this.maxAttempts} x ${this.ackTimeoutMs} ms`;
    return new TimeoutError(`no ack for ${entry.msg.subject}: ${entry.attempts} sends in ${waited} ms (budget ${budget})`);
  }
}
