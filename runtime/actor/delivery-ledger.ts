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
  /** Insertion-ordered: the oldest entries are dropped first. */
  private readonly handled = new Map<number, number>();

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
    this.handled.delete(seq);
    this.handled.set(seq, stamp);
    if (this.handled.size > this.capacity) this.handled.delete(this.handled.keys().next().value!);
  }

  end(seq: number): void {
    this.running.delete(seq);
  }
}
