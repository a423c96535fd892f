/**
 * The inbox messages one worker is handling now or handled lately, by stream sequence and
 * stored timestamp (a sequence alone could name another message if the inbox were deleted and
 * created again while the worker runs).
 *
 * JetStream can hand one worker the same message twice: in a consumer leader change a
 * redelivery can overtake the first delivery, so both wait in the same worker, and the
 * processed marker read for the second copy was sent before the first copy wrote it. The
 * ledger catches that case locally: a copy of a message handled here is acked without running
 * the handler, and a copy of a message still running here is left alone (whichever ack the
 * server keeps, a later redelivery finds the message handled here, or its marker).
 */
export class DeliveryLedger {
  private readonly running = new Map<number, number>();
  private readonly handled = new Map<number, number>();
  /**
   * The handled entries in the order they came (sequence and stamp), as a ring: the oldest is
   * dropped without walking the Map (a Map used as a queue skips the holes its deletions leave on
   * every walk from the front: a visible share of a no-op actor's time).
   */
  private readonly orderSeq: number[] = [];
  private readonly orderStamp: number[] = [];
  private next = 0;

  constructor(private readonly capacity = 4096) {}

  /** Marks the message as running here; false if it already runs or was handled here. */
  begin(seq: number, stamp: number): boolean {
    if (this.running.get(seq) === stamp || this.handled.get(seq) === stamp) return false;
    this.running.set(seq, stamp);
    return true;
  }

  wasHandled(seq: number, stamp: number): boolean {
    return this.handled.get(seq) === stamp;
  }

  /** The delivery is settled for good: acked (handled, or its marker said so) or dead-lettered and terminated. */
  markHandled(seq: number, stamp: number): void {
    // already here (begin() refuses such a copy, so only a caller outside the worker): a second ring
    // slot for it would drop the entry when the older slot is reused
    if (this.handled.get(seq) === stamp) return;
    if (this.orderSeq.length < this.capacity) {
      this.orderSeq.push(seq);
      this.orderStamp.push(stamp);
    } else {
      const i = this.next;
      const oldest = this.orderSeq[i]!;
      // drop only the entry this slot put there: the same sequence handled again since with another
      // stamp (an inbox created anew) owns the Map entry now, and its own slot drops it later
      if (this.handled.get(oldest) === this.orderStamp[i]) this.handled.delete(oldest);
      this.orderSeq[i] = seq;
      this.orderStamp[i] = stamp;
      this.next = (i + 1) % this.capacity;
    }
    this.handled.set(seq, stamp);
  }

  end(seq: number): void {
    this.running.delete(seq);
  }
}
