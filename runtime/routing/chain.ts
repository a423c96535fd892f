import type { BulkPublisher, SendGuard } from "../store/bulk.ts";
import type { OutgoingMessage, PubAck } from "../store/types.ts";

/** Copies to one ordered-actor inbox subject, each sent only after the previous one's ack. */
type Chain = { tail: Promise<unknown>; length: number };

/**
 * Publishes copies per subject strictly one after another: a copy goes out only once the
 * previous copy to the same subject has its JetStream ack, so one partition's copies are stored
 * in the order they were handed in, even when a publish is resent.
 *
 * A failed link fails every later link of its chain without publishing it, so a later event of
 * a key never overtakes an earlier one that could not be delivered; the chain restarts once it
 * has drained. `guard` runs right before each link goes out (and before each resend of it) and
 * refuses it by throwing: the ordered lane uses it as a fence, so nothing is sent once it is no
 * longer pinned.
 */
export class ChainedPublisher {
  private readonly chains = new Map<string, Chain>();

  constructor(
    private readonly publisher: BulkPublisher,
    private readonly guard?: SendGuard,
  ) {}

  /** `msg` may still be in the making (its headers wait for the index): its place in the chain is taken now. */
  publish(subject: string, msg: OutgoingMessage | Promise<OutgoingMessage>): Promise<PubAck> {
    let chain = this.chains.get(subject);
    if (!chain) {
      chain = { tail: Promise.resolve(), length: 0 };
      this.chains.set(subject, chain);
    }
    const c = chain;
    // a message that fails to be made after an earlier link failed is never read: its error must not go unhandled
    if (msg instanceof Promise) msg.catch(() => undefined);
    const acked = c.tail.then(() => msg).then((m) => this.publisher.publish(m, this.guard));
    c.tail = acked;
    c.length++;
    const release = () => {
      if (--c.length === 0 && this.chains.get(subject) === c) this.chains.delete(subject);
    };
    acked.then(release, release);
    return acked;
  }
}
