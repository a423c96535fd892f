/**
 * The inbox sequences one worker is handling now or handled lately.
 *
 * JetStream can hand one worker the same message twice: in a consumer leader change a
 * redelivery can overtake the first delivery, so both wait in the same worker, and the
 * processed marker read for the second copy was sent before the first copy wrote it. The
 * ledger catches that case locally: a copy of a sequence handled here is acked without running
 * the handler, and a copy of a sequence still running here is left alone (whichever ack the
 * server keeps, a later redelivery finds the sequence handled here, or its marker).
 */
export class DeliveryLedger {
  private readonly running = new Set<number>();
  /** Insertion-ordered: the oldest entries are dropped first. */
  private readonly handled = new Set<number>();

  constructor(private readonly capacity = 4096) {}

  /** Marks `seq` as running here; false if it already runs or was handled here. */
  begin(seq: number): boolean {
    if (this.running.has(seq) || this.handled.has(seq)) return false;
    this.running.add(seq);
    return true;
  }

  wasHandled(seq: number): boolean {
    return this.handled.has(seq);
  }

  /** The handler succeeded (or the marker said so) and the delivery is acked. */
  markHandled(seq: number): void {
    this.handled.add(seq);
    if (this.handled.size > this.capacity) this.handled.delete(this.handled.values().next().value!);
  }

  end(seq: number): void {
    this.running.delete(seq);
  }
}
