import type { JsMsg } from "@nats-io/jetstream";
import { decodeEvent } from "../../events/codec.ts";
import type { Event, WireMessage } from "../../events/types.ts";
import { Delivery } from "../../nats/delivered.ts";
import type { Taken } from "../../consumer/runner.ts";
import { JetbusHeaders } from "../../topology.ts";
import type { CopyHeaders, Decoded, Delivered, Screened, Screening } from "./types.ts";

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
  private copyHeaders: CopyHeaders | undefined = undefined;

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

  get copy(): CopyHeaders {
    this.copyHeaders ??= copyHeadersOf(this.wire);
    return this.copyHeaders;
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

const PREFIX = "\njetbus-";
const NO_COPY_HEADERS: CopyHeaders = { rule: undefined, dupCheck: false, replay: undefined };

/** The jetbus headers of a message: one pass over its header block for the `jetbus-` lines (else its parsed headers). */
export function copyHeadersOf(w: WireMessage): CopyHeaders {
  const block = w.headerBlock;
  if (block === undefined) {
    const h = w.headers;
    if (!h) return NO_COPY_HEADERS;
    return {
      rule: h.has(JetbusHeaders.Rule) ? h.get(JetbusHeaders.Rule) : undefined,
      dupCheck: h.has(JetbusHeaders.DupCheck),
      replay: h.has(JetbusHeaders.Replay) ? h.get(JetbusHeaders.Replay) : undefined,
    };
  }
  let at = block.indexOf(PREFIX);
  if (at < 0) return NO_COPY_HEADERS;
  let rule: string | undefined;
  let dupCheck = false;
  let replay: string | undefined;
  while (at >= 0) {
    const start = at + 1;
    const colon = block.indexOf(":", start);
    const end = block.indexOf("\r\n", start);
    if (colon > 0 && (end < 0 || colon < end)) {
      const name = block.slice(start, colon);
      // a repeated name keeps its first value, as headerOf reads it
      if (name === JetbusHeaders.Rule) rule ??= value(block, colon, end);
      else if (name === JetbusHeaders.DupCheck) dupCheck = true;
      else if (name === JetbusHeaders.Replay) replay ??= value(block, colon, end);
    }
    at = end < 0 ? -1 : block.indexOf(PREFIX, end);
  }
  return { rule, dupCheck, replay };
}

function value(block: string, colon: number, end: number): string {
  return (end < 0 ? block.slice(colon + 1) : block.slice(colon + 1, end)).trim();
}

/** The Decoded stage of a delivery whose message is a valid event (decoding it if nobody asked yet). */
export function isDecoded(h: Delivered): h is Decoded {
  return h instanceof Handling && h.event !== undefined;
}
