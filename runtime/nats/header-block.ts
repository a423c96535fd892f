import type { MsgHdrs } from "@nats-io/transport-node";

const encoder = new TextEncoder();

/**
 * Headers written as text in the client's own layout (`NATS/1.0\r\nName: value\r\n...\r\n\r\n`)
 * and encoded once. Publishing reads nothing of a message's headers but `encode()`, so a hot path
 * skips the client's header map: filling it checks every value with a regular expression and
 * re-builds the text for every message. Only for messages that are published as they are (the
 * bulk publisher, or `js.publish` without options that add headers): nothing else may read them.
 * The caller vouches for the values: one line each, no CR or LF, no surrounding whitespace.
 */
export function headerBlock(lines: string): MsgHdrs {
  return new HeaderBlock(encoder.encode(`NATS/1.0${lines}\r\n\r\n`)) as unknown as MsgHdrs;
}

class HeaderBlock {
  constructor(private readonly bytes: Uint8Array) {}
  encode(): Uint8Array {
    return this.bytes;
  }
}
