import type { JsMsg } from "@nats-io/jetstream";
import { decodeEvent } from "../../events/codec.ts";
import type { Event, WireMessage } from "../../events/types.ts";
import { Delivery } from "../../nats/delivered.ts";
import type { Taken } from "../../consumer/runner.ts";
import type { Decoded, Delivered, Screened, Screening } from "./types.ts";

/** A delivery handed over outside a runner (tests, tools): no slot to give back, no wait. */
const UNSLOTTED: Taken = { waitedMs: 0, freeSlot: () => undefined };

/**
 * One delivery through an actor's policies: the one object behind every stage (Delivered,
 * Decoded, Screened). What a stage adds is set by the method that moves it there, so a policy
 * typed for a stage can rely on its fields without checks or `!`. Decoding is lazy and done once:
 * a policy that never asks for the event (a copy left alone, a duplicate of one handled here)
 * costs no decode.
 */
export class Handling implements Delivered {
  readonly attempt: number;
  duplicatePossible = true;
  askLeader = false;
  handlerMs: number | undefined = undefined;
  private wireMessage: WireMessage | undefined = undefined;
  private decoded: Event | undefined = undefined;
  private failure: unknown = undefined;
  private tried = false;

  constructor(
    readonly msg: JsMsg,
    private readonly taken: Taken = UNSLOTTED,
  ) {
    this.attempt = msg.info.deliveryCount;
  }

  get waitedMs(): number {
    return this.taken.waitedMs;
  }

  get wire(): WireMessage {
    // the inbox, or the event store for a direct actor
    this.wireMessage ??= new Delivery(this.msg);
    return this.wireMessage;
  }

  get event(): Event | undefined {
    if (!this.tried) this.decode();
    return this.decoded;
  }

  get decodeError(): unknown {
    return this.failure;
  }

  freeSlot(): void {
    this.taken.freeSlot();
  }

  /** Decoded stage only (see Decoded.screen): what it adds is set here, so the Screened view holds. */
  screen(s: Screening): Screened {
    this.duplicatePossible = s.duplicatePossible;
    this.askLeader = s.askLeader;
    return this as unknown as Screened;
  }

  /** Decoded stage only (see Decoded.retrace). */
  retrace(traceparent: string): void {
    if (this.decoded) this.decoded = { ...this.decoded, traceparent };
  }

  ran(ms: number): void {
    this.handlerMs = ms;
  }

  private decode(): void {
    this.tried = true;
    try {
      this.decoded = decodeEvent(this.wire).event;
    } catch (err) {
      this.failure = err ?? new Error("undecodable message");
    }
  }
}

/** The Decoded stage of a delivery whose message is a valid event (decoding it if nobody asked yet). */
export function isDecoded(h: Delivered): h is Decoded {
  return h instanceof Handling && h.event !== undefined;
}
